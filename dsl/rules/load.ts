/**
 * Load: YAML rule-file text → a plain tree of maps, sequences and scalars that remembers where every
 * node sits in the file, so later stages can point at `file:line:col`.
 *
 * Stage: first. Next: dsl/rules/check.ts decodes the tree into the ruleset and hands expression strings
 * to the expression parser; `expressionOffset` maps a position inside an expression back to the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, Scalar } from "yaml";
import type { Diagnostic, DiagnosticCode, Span } from "../errors";
import { INDENTATION_ERROR_CODES, INDENTATION_HINT, indentationProblem } from "./indentation";

/** One rule file as text, with the offsets where its lines start (for offset → line:col). */
export interface SourceFile {
  path: string;
  text: string;
  lineStarts: readonly number[];
}

/** How a scalar was written; expression positions are mapped differently for each style. */
export type ScalarStyle = "plain" | "single" | "double" | "literal" | "folded";

interface Located {
  /** Offsets into the file text: the node's value starts at `start` and ends before `end`. */
  start: number;
  end: number;
}

export interface YamlScalar extends Located {
  kind: "scalar";
  value: string | number | boolean | null;
  style: ScalarStyle;
}

export interface YamlPair {
  key: YamlScalar;
  value: YamlNode;
}

export interface YamlMap extends Located {
  kind: "map";
  pairs: YamlPair[];
}

export interface YamlSeq extends Located {
  kind: "seq";
  items: YamlNode[];
}

export type YamlNode = YamlScalar | YamlMap | YamlSeq;

/** A loaded file: its tree (absent when the YAML could not be read at all) and what went wrong. */
export interface LoadedFile {
  source: SourceFile;
  root: YamlNode | null;
  diagnostics: Diagnostic[];
}

/** Builds a SourceFile, indexing line starts once. */
export function sourceFile(path: string, text: string): SourceFile {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return { path, text, lineStarts };
}

/** 1-based line and column (UTF-16 units) of a file offset. */
export function positionOf(source: SourceFile, offset: number): { line: number; column: number } {
  const starts = source.lineStarts;
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

/** A diagnostic covering `span` (file offsets) of `source`. */
export function diagnosticAt(
  source: SourceFile,
  span: Span,
  code: DiagnosticCode,
  message: string,
  hint?: string,
): Diagnostic {
  const from = positionOf(source, span.start);
  const to = positionOf(source, Math.max(span.end, span.start + 1));
  const diagnostic: Diagnostic = {
    code,
    severity: "error",
    message,
    file: source.path,
    line: from.line,
    column: from.column,
    endLine: to.line,
    endColumn: to.column,
  };
  if (hint !== undefined) diagnostic.hint = hint;
  return diagnostic;
}

/**
 * Parses one rule file. YAML syntax errors and duplicate keys become located diagnostics; the tree is
 * still returned when the parser could recover, so the checker can report more than one problem.
 */
export function loadRuleFile(path: string, text: string): LoadedFile {
  const source = sourceFile(path, text);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const diagnostics: Diagnostic[] = [];
  for (const error of doc.errors) {
    const code: DiagnosticCode = error.code === "DUPLICATE_KEY" ? "duplicate_key" : "yaml_syntax";
    const [lineStart, end] = error.pos;
    const message = firstLine(error.message);
    const diagnostic = indentationDiagnostic(source, error.code, message, lineStart) ?? {
      // yaml places a mis-indented line's error at the start of the line; the caret belongs under
      // the key that is out of line, which is what the author has to move.
      start: error.code === "BAD_INDENT" ? skipSpaces(text, lineStart) : lineStart,
      end,
      message,
      hint: undefined,
    };
    const located = diagnosticAt(
      source,
      { start: diagnostic.start, end: Math.max(diagnostic.end, diagnostic.start + 1) },
      code,
      diagnostic.message,
      diagnostic.hint,
    );
    // One mistake often yields two parser errors at one place: report it once.
    if (!diagnostics.some((d) => d.code === code && d.line === located.line && d.column === located.column))
      diagnostics.push(located);
  }
  const hasSyntaxError = diagnostics.some((d) => d.code === "yaml_syntax");
  const root =
    hasSyntaxError || doc.contents === null ? null : convert(doc.contents, doc, source, diagnostics);
  return { source, root, diagnostics };
}

/**
 * An indentation mistake explained at the line that is out of place (the parser often blames the
 * line before it, in its own terms), or with a general hint when no single line is to blame.
 * Undefined for errors that are not about indentation.
 */
function indentationDiagnostic(
  source: SourceFile,
  code: string,
  message: string,
  at: number,
): { start: number; end: number; message: string; hint: string } | undefined {
  const aboutIndentation =
    INDENTATION_ERROR_CODES.has(code) &&
    (code !== "MISSING_CHAR" || /without - indicator|followed by map values/.test(message));
  if (!aboutIndentation) return undefined;
  const problem = indentationProblem(source.text, at);
  if (problem) return problem;
  if (code === "MISSING_CHAR" && !/without - indicator/.test(message)) return undefined;
  const end = source.text.indexOf("\n", at);
  return {
    start: skipSpaces(source.text, at),
    end: end === -1 ? source.text.length : end,
    message,
    hint: INDENTATION_HINT,
  };
}

function skipSpaces(text: string, from: number): number {
  let at = from;
  while (text[at] === " ") at += 1;
  return at < text.length && text[at] !== "\n" ? at : from;
}

function firstLine(message: string): string {
  const line = message.split("\n")[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, "");
}

type AnyDocument = ReturnType<typeof parseDocument>;

function convert(node: Node, doc: AnyDocument, source: SourceFile, diagnostics: Diagnostic[]): YamlNode {
  const [start, end] = node.range ?? [0, 0];
  if (isAlias(node)) {
    // Anchors are allowed for reuse; positions then point at the anchored original.
    const target = node.resolve(doc);
    if (target) return convert(target, doc, source, diagnostics);
    return { kind: "scalar", value: null, style: "plain", start, end };
  }
  if (isMap(node)) {
    const pairs: YamlPair[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (!isScalar(keyNode) || keyNode.range === undefined || keyNode.range === null) {
        const at = (keyNode?.range as [number, number] | undefined) ?? [start, start + 1];
        diagnostics.push(
          diagnosticAt(source, { start: at[0], end: at[1] }, "schema_violation", "keys must be plain names"),
        );
        continue;
      }
      const key = convert(keyNode, doc, source, diagnostics) as YamlScalar;
      const valueNode = pair.value as Node | null;
      const value: YamlNode =
        valueNode === null
          ? { kind: "scalar", value: null, style: "plain", start: key.end, end: key.end }
          : convert(valueNode, doc, source, diagnostics);
      pairs.push({ key, value });
    }
    return { kind: "map", pairs, start, end };
  }
  if (isSeq(node)) {
    const items = node.items.map((item) =>
      item === null
        ? ({ kind: "scalar", value: null, style: "plain", start, end: start } satisfies YamlScalar)
        : convert(item as Node, doc, source, diagnostics),
    );
    return { kind: "seq", items, start, end };
  }
  const scalar = node as Scalar;
  const raw = scalar.value;
  const value =
    typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean" || raw === null
      ? raw
      : String(raw);
  return { kind: "scalar", value, style: styleOf(scalar), start, end };
}

function styleOf(scalar: Scalar): ScalarStyle {
  switch (scalar.type) {
    case Scalar.QUOTE_SINGLE:
      return "single";
    case Scalar.QUOTE_DOUBLE:
      return "double";
    case Scalar.BLOCK_LITERAL:
      return "literal";
    case Scalar.BLOCK_FOLDED:
      return "folded";
    default:
      return "plain";
  }
}

/**
 * Maps an offset inside a string scalar's value (as the expression parser saw it) to an offset in the
 * file. Works for plain, single-quoted, double-quoted (with escapes) and block scalars, which fold
 * lines and strip indentation: the value's characters are aligned with the source in order.
 */
export function expressionOffset(source: SourceFile, scalar: YamlScalar, valueOffset: number): number {
  const value = typeof scalar.value === "string" ? scalar.value : String(scalar.value);
  const map = alignScalar(source.text, scalar, value);
  const clamped = Math.max(0, Math.min(valueOffset, value.length));
  return map[clamped] ?? scalar.start;
}

/** Maps an expression-relative span to a file span (see `expressionOffset`). */
export function expressionSpan(source: SourceFile, scalar: YamlScalar, span: Span): Span {
  const start = expressionOffset(source, scalar, span.start);
  // The end is mapped from the last covered character so a span never swallows a folded line break.
  const end = span.end > span.start ? expressionOffset(source, scalar, span.end - 1) + 1 : start;
  return { start, end };
}

const alignCache = new WeakMap<YamlScalar, number[]>();

function alignScalar(text: string, scalar: YamlScalar, value: string): number[] {
  const cached = alignCache.get(scalar);
  if (cached) return cached;
  let position = scalar.start;
  let end = scalar.end;
  if (scalar.style === "single" || scalar.style === "double") {
    position += 1;
    end -= 1;
  } else if (scalar.style === "literal" || scalar.style === "folded") {
    // Skip the header line (`|`, `>-`, `|2` and any comment) to the first content line.
    const newline = text.indexOf("\n", position);
    position = newline === -1 ? end : newline + 1;
  }
  const map: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const wanted = value[i]!;
    let found = -1;
    while (position < end) {
      const char = text[position]!;
      if (scalar.style === "double" && char === "\\") {
        const { decoded, length } = decodeEscape(text, position);
        if (decoded === wanted) {
          found = position;
          position += length;
          break;
        }
        position += length;
        continue;
      }
      if (char === wanted || (/\s/.test(wanted) && (char === "\n" || char === " " || char === "\t"))) {
        found = position;
        position += 1;
        break;
      }
      position += 1;
    }
    map.push(found === -1 ? Math.max(scalar.start, end - 1) : found);
  }
  map.push(map.length > 0 ? map[map.length - 1]! + 1 : position);
  alignCache.set(scalar, map);
  return map;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
};

function decodeEscape(text: string, at: number): { decoded: string; length: number } {
  const letter = text[at + 1] ?? "";
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { decoded: simple, length: 2 };
  const hexLength = letter === "x" ? 2 : letter === "u" ? 4 : letter === "U" ? 8 : 0;
  if (hexLength > 0) {
    const code = Number.parseInt(text.slice(at + 2, at + 2 + hexLength), 16);
    return { decoded: Number.isNaN(code) ? "" : String.fromCodePoint(code), length: 2 + hexLength };
  }
  // An escaped line break joins lines without a character of its own.
  return { decoded: "", length: 2 };
}

/** Looks a key up in a map node. */
export function getPair(map: YamlMap, key: string): YamlPair | undefined {
  return map.pairs.find((pair) => pair.key.value === key);
}
