/**
 * Parser: expression text → AST (dsl/expr/ast.ts), by recursive descent over the lexer's tokens.
 *
 * Stage: lexer → parser → check-expr. Precedence, loosest first:
 *   or < and < not < comparison / in / between / is null / exists < + - < * / < unary minus.
 * Comparisons do not chain (`a < b < c` is an error). Depth and node count are bounded by LIMITS
 * so a hostile rule file cannot blow the stack.
 */

import type { DiagnosticCode, ExprDiagnostic, Span } from "../errors";
import { LIMITS } from "../limits";
import type { CompareOp, Expr, ListLiteral } from "./ast";
import { type Token, tokenize } from "./lexer";

const COMPARE_OPS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">="]);

class ParseFailure extends Error {
  constructor(readonly diagnostic: ExprDiagnostic) {
    super(diagnostic.message);
  }
}

/**
 * Parses one expression. On failure `ast` is absent and `diagnostics` holds the first error.
 *
 * @example parseExpression("ltv >= $500 or referrals >= 1").ast?.kind // "logical"
 */
export function parseExpression(text: string): { ast?: Expr; diagnostics: ExprDiagnostic[] } {
  const lexed = tokenize(text);
  if (lexed.diagnostics.length > 0) return { diagnostics: lexed.diagnostics };
  const parser = new Parser(lexed.tokens);
  try {
    const ast = parser.parseOr();
    const next = parser.peek();
    if (next.kind !== "eof") {
      parser.fail(
        "expr_syntax",
        `unexpected ${describe(next)} after a complete expression`,
        next.span,
        "join conditions with `and` / `or`",
      );
    }
    return { ast, diagnostics: [] };
  } catch (error) {
    if (error instanceof ParseFailure) return { diagnostics: [error.diagnostic] };
    throw error;
  }
}

function describe(token: Token): string {
  if (token.kind === "eof") return "end of expression";
  return `\`${token.text}\``;
}

class Parser {
  private pos = 0;
  private depth = 0;
  private nodes = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  fail(code: DiagnosticCode, message: string, span: Span, hint?: string): never {
    throw new ParseFailure({ code, message, span, ...(hint ? { hint } : {}) });
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.pos++;
    return token;
  }

  private isKeyword(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === "keyword" && token.text === text;
  }

  private isPunct(text: string): boolean {
    const token = this.peek();
    return token.kind === "punct" && token.text === text;
  }

  private expectPunct(text: string, context: string): Token {
    const token = this.peek();
    if (token.kind !== "punct" || token.text !== text) {
      this.fail("expr_syntax", `expected \`${text}\` ${context}, found ${describe(token)}`, token.span);
    }
    return this.next();
  }

  private node<T extends Expr>(node: T): T {
    this.nodes++;
    if (this.nodes > LIMITS.maxExpressionNodes) {
      this.fail(
        "limit_exceeded",
        `expression has more than ${LIMITS.maxExpressionNodes} parts`,
        node.span,
        "split it into named segments",
      );
    }
    return node;
  }

  private enter(span: Span): void {
    this.depth++;
    if (this.depth > LIMITS.maxExpressionDepth) {
      this.fail(
        "limit_exceeded",
        `expression nests deeper than ${LIMITS.maxExpressionDepth} levels`,
        span,
        "split it into named segments",
      );
    }
  }

  parseOr(): Expr {
    this.enter(this.peek().span);
    let left = this.parseAnd();
    while (this.isKeyword("or")) {
      this.next();
      const right = this.parseAnd();
      left = this.node({ kind: "logical", op: "or", left, right, span: join(left.span, right.span) });
    }
    this.depth--;
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isKeyword("and")) {
      this.next();
      const right = this.parseNot();
      left = this.node({ kind: "logical", op: "and", left, right, span: join(left.span, right.span) });
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isKeyword("not")) {
      const not = this.next();
      this.enter(not.span);
      const operand = this.parseNot();
      this.depth--;
      return this.node({ kind: "not", operand, span: join(not.span, operand.span) });
    }
    return this.parsePredicate();
  }

  private parsePredicate(): Expr {
    if (this.isKeyword("exists")) {
      const keyword = this.next();
      const operand = this.parseAdditive();
      return this.node({ kind: "null_test", negated: true, operand, span: join(keyword.span, operand.span) });
    }
    const left = this.parseAdditive();
    const token = this.peek();
    let result: Expr = left;
    if (token.kind === "op" && COMPARE_OPS.has(token.text)) {
      this.next();
      const right = this.parseAdditive();
      result = this.node({
        kind: "compare",
        op: token.text as CompareOp,
        left,
        right,
        opSpan: token.span,
        span: join(left.span, right.span),
      });
    } else if (this.isKeyword("in") || (this.isKeyword("not") && this.isKeyword("in", 1))) {
      const negated = this.isKeyword("not");
      if (negated) this.next();
      this.next();
      const list = this.parseList("after `in`");
      result = this.node({ kind: "in", negated, operand: left, list, span: join(left.span, list.span) });
    } else if (this.isKeyword("between") || (this.isKeyword("not") && this.isKeyword("between", 1))) {
      const negated = this.isKeyword("not");
      if (negated) this.next();
      this.next();
      const low = this.parseAdditive();
      if (!this.isKeyword("and")) {
        this.fail(
          "expr_syntax",
          `expected \`and\` in \`between ... and ...\`, found ${describe(this.peek())}`,
          this.peek().span,
        );
      }
      this.next();
      const high = this.parseAdditive();
      result = this.node({
        kind: "between",
        negated,
        operand: left,
        low,
        high,
        span: join(left.span, high.span),
      });
    } else if (this.isKeyword("is")) {
      this.next();
      const negated = this.isKeyword("not");
      if (negated) this.next();
      const nullToken = this.peek();
      if (!this.isKeyword("null")) {
        this.fail(
          "expr_syntax",
          `expected \`null\` after \`is${negated ? " not" : ""}\`, found ${describe(nullToken)}`,
          nullToken.span,
          "use `is null`, `is not null` or `==`",
        );
      }
      this.next();
      result = this.node({
        kind: "null_test",
        negated,
        operand: left,
        span: join(left.span, nullToken.span),
      });
    }
    const after = this.peek();
    if (result !== left && after.kind === "op" && COMPARE_OPS.has(after.text)) {
      this.fail("expr_syntax", "comparisons do not chain", after.span, "write `a < b and b < c`");
    }
    return result;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    for (;;) {
      const token = this.peek();
      if (token.kind !== "op" || (token.text !== "+" && token.text !== "-")) return left;
      this.next();
      const right = this.parseMultiplicative();
      left = this.node({
        kind: "arith",
        op: token.text,
        left,
        right,
        opSpan: token.span,
        span: join(left.span, right.span),
      });
    }
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    for (;;) {
      const token = this.peek();
      if (token.kind !== "op" || (token.text !== "*" && token.text !== "/")) return left;
      this.next();
      const right = this.parseUnary();
      left = this.node({
        kind: "arith",
        op: token.text,
        left,
        right,
        opSpan: token.span,
        span: join(left.span, right.span),
      });
    }
  }

  private parseUnary(): Expr {
    const token = this.peek();
    if (token.kind === "op" && token.text === "-") {
      this.next();
      this.enter(token.span);
      const operand = this.parseUnary();
      this.depth--;
      return this.node({ kind: "negate", operand, span: join(token.span, operand.span) });
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case "number":
        this.next();
        return this.node({ kind: "number", value: Number(token.text), span: token.span });
      case "string":
        this.next();
        return this.node({ kind: "string", value: token.text, span: token.span });
      case "money":
        this.next();
        return this.node({
          kind: "money",
          amount: token.text,
          currency: token.currency ?? null,
          span: token.span,
        });
      case "duration":
        this.next();
        return this.node({ kind: "duration", ms: token.ms!, span: token.span });
      case "timestamp":
        this.next();
        return this.node({ kind: "timestamp", ms: token.ms!, span: token.span });
      case "keyword":
        if (token.text === "true" || token.text === "false") {
          this.next();
          return this.node({ kind: "boolean", value: token.text === "true", span: token.span });
        }
        if (token.text === "now") {
          this.next();
          return this.node({ kind: "now", span: token.span });
        }
        if (token.text === "null") {
          this.fail(
            "expr_syntax",
            "`null` is not a value",
            token.span,
            "test for a missing value with `x is null`",
          );
        }
        return this.fail("expr_syntax", `expected a value, found \`${token.text}\``, token.span);
      case "name":
        this.next();
        if (this.isPunct("(")) return this.parseCall(token);
        return this.node({ kind: "name", name: token.text, span: token.span });
      case "punct":
        if (token.text === "(") {
          this.next();
          const inner = this.parseOr();
          this.expectPunct(")", "to close `(`");
          return inner;
        }
        if (token.text === "[") return this.parseList("");
        return this.fail("expr_syntax", `expected a value, found ${describe(token)}`, token.span);
      default:
        return this.fail("expr_syntax", `expected a value, found ${describe(token)}`, token.span);
    }
  }

  private parseCall(name: Token): Expr {
    this.next();
    this.enter(name.span);
    const args: Expr[] = [];
    if (!this.isPunct(")")) {
      for (;;) {
        args.push(this.parseOr());
        if (!this.isPunct(",")) break;
        this.next();
      }
    }
    const close = this.expectPunct(")", `to close the call to \`${name.text}\``);
    this.depth--;
    return this.node({
      kind: "call",
      name: name.text,
      nameSpan: name.span,
      args,
      span: join(name.span, close.span),
    });
  }

  private parseList(context: string): ListLiteral {
    const open = this.peek();
    if (!this.isPunct("[")) {
      this.fail(
        "expr_syntax",
        `expected a list \`[...]\` ${context}, found ${describe(open)}`.replace("  ", " "),
        open.span,
      );
    }
    this.next();
    this.enter(open.span);
    const items: Expr[] = [];
    while (!this.isPunct("]")) {
      items.push(this.parseOr());
      if (items.length > LIMITS.maxListItems) {
        this.fail(
          "limit_exceeded",
          `list has more than ${LIMITS.maxListItems} items`,
          join(open.span, this.peek().span),
        );
      }
      if (!this.isPunct(",")) break;
      this.next();
    }
    const close = this.expectPunct("]", "to close the list");
    this.depth--;
    return this.node({ kind: "list", items, span: join(open.span, close.span) });
  }
}

function join(a: Span, b: Span): Span {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}
