/**
 * Lexer: one expression string → tokens with spans.
 *
 * Stage: first step of an expression (lexer → parser → check-expr → compile / sql). Literal forms
 * with units are recognised here: money (`$20`, `€5`, `20 EUR`), durations (`14d`, `1d12h`) and
 * ISO dates/timestamps (`2026-01-31`, `2026-01-31T09:00:00Z`). Errors become diagnostics; the
 * lexer never throws.
 */

import type { ExprDiagnostic, Span } from "../errors";
import { LIMITS } from "../limits";

export type TokenKind =
  | "number"
  | "string"
  | "money"
  | "duration"
  | "timestamp"
  | "name"
  | "keyword"
  | "op"
  | "punct"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** Source text; for strings the decoded value; for money the decimal amount. */
  readonly text: string;
  readonly span: Span;
  /** money: ISO code or null for `$`; duration/timestamp: milliseconds. */
  readonly currency?: string | null;
  readonly ms?: number;
}

export const KEYWORDS: ReadonlySet<string> = new Set([
  "and",
  "or",
  "not",
  "in",
  "between",
  "is",
  "null",
  "exists",
  "true",
  "false",
  "now",
]);

const CURRENCY_SIGILS: Readonly<Record<string, string | null>> = { $: null, "€": "EUR", "£": "GBP" };

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
};

const DATE_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?/;
const NUMBER_RE = /^\d+(?:\.\d+)?/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/;
const UNIT_RE = /^[A-Za-z]+/;
const CURRENCY_CODE_RE = /^ +([A-Z]{3})(?![A-Za-z0-9_])/;

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= "0" && ch <= "9";

/**
 * Splits an expression into tokens. Always ends with an `eof` token when there are no diagnostics.
 *
 * @example tokenize("ltv >= $500").tokens.map((t) => t.kind) // ["name", "op", "money", "eof"]
 */
export function tokenize(source: string): { tokens: Token[]; diagnostics: ExprDiagnostic[] } {
  const tokens: Token[] = [];
  const diagnostics: ExprDiagnostic[] = [];
  const fail = (code: ExprDiagnostic["code"], message: string, start: number, end: number, hint?: string) => {
    diagnostics.push({ code, message, span: { start, end }, ...(hint ? { hint } : {}) });
  };
  if (source.length > LIMITS.maxExpressionLength) {
    fail(
      "limit_exceeded",
      `expression is ${source.length} characters long; the limit is ${LIMITS.maxExpressionLength}`,
      0,
      source.length,
    );
    return { tokens, diagnostics };
  }
  let pos = 0;
  while (pos < source.length) {
    const ch = source[pos]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      pos++;
      continue;
    }
    const rest = source.slice(pos);
    const start = pos;

    if (isDigit(ch)) {
      const date = DATE_RE.exec(rest);
      if (date) {
        const ms = parseIsoTimestamp(date);
        if (ms === null) {
          fail(
            "bad_timestamp",
            `\`${date[0]}\` is not a valid date or time`,
            start,
            start + date[0].length,
            "write 2026-01-31, or 2026-01-31T09:30:00Z with a zone",
          );
          return { tokens, diagnostics };
        }
        tokens.push({ kind: "timestamp", text: date[0], span: { start, end: start + date[0].length }, ms });
        pos += date[0].length;
        continue;
      }
      const num = NUMBER_RE.exec(rest)![0];
      let end = start + num.length;
      const unit = UNIT_RE.exec(source.slice(end));
      if (unit) {
        // A number glued to letters is a duration (`14d`, `1d12h`) or money with a code (`20EUR`).
        const durationEnd = scanDuration(source, start);
        if (durationEnd !== null) {
          const text = source.slice(start, durationEnd.end);
          if (durationEnd.ms > LIMITS.maxDurationMs) {
            fail(
              "limit_exceeded",
              `duration \`${text}\` is longer than the 10-year limit`,
              start,
              durationEnd.end,
            );
            return { tokens, diagnostics };
          }
          tokens.push({ kind: "duration", text, span: { start, end: durationEnd.end }, ms: durationEnd.ms });
          pos = durationEnd.end;
          continue;
        }
        end += unit[0].length;
        const word = unit[0];
        const hint =
          word === "y" || word === "mo" || word === "M"
            ? "months and years vary in length; write days, e.g. 30d or 365d"
            : "units are w (weeks), d (days), h (hours), m (minutes), s (seconds), e.g. 14d or 1d12h";
        fail("bad_duration", `\`${source.slice(start, end)}\` is not a valid duration`, start, end, hint);
        return { tokens, diagnostics };
      }
      const code = CURRENCY_CODE_RE.exec(source.slice(end));
      if (code) {
        end += code[0].length;
        tokens.push({ kind: "money", text: num, currency: code[1]!, span: { start, end } });
        pos = end;
        continue;
      }
      tokens.push({ kind: "number", text: num, span: { start, end } });
      pos = end;
      continue;
    }

    if (ch in CURRENCY_SIGILS) {
      const num = NUMBER_RE.exec(source.slice(pos + 1));
      if (!num) {
        fail(
          "bad_money",
          `\`${ch}\` must be followed by an amount, e.g. ${ch}20 or ${ch}19.99`,
          start,
          start + 1,
        );
        return { tokens, diagnostics };
      }
      const end = start + 1 + num[0].length;
      if (/^[A-Za-z_]/.test(source.slice(end))) {
        fail("bad_money", `\`${source.slice(start, end + 1)}\` is not a valid amount`, start, end + 1);
        return { tokens, diagnostics };
      }
      tokens.push({ kind: "money", text: num[0], currency: CURRENCY_SIGILS[ch]!, span: { start, end } });
      pos = end;
      continue;
    }

    if (ch === '"' || ch === "'") {
      const str = scanString(source, pos, ch);
      if (typeof str === "string") {
        fail("expr_syntax", str, start, source.length);
        return { tokens, diagnostics };
      }
      if (str.value.length > LIMITS.maxStringLength) {
        fail("limit_exceeded", `string is longer than ${LIMITS.maxStringLength} characters`, start, str.end);
        return { tokens, diagnostics };
      }
      tokens.push({ kind: "string", text: str.value, span: { start, end: str.end } });
      pos = str.end;
      continue;
    }

    const name = NAME_RE.exec(rest);
    if (name) {
      const end = start + name[0].length;
      const kind = KEYWORDS.has(name[0]) ? "keyword" : "name";
      tokens.push({ kind, text: name[0], span: { start, end } });
      pos = end;
      continue;
    }

    const two = source.slice(pos, pos + 2);
    if (two === "==" || two === "!=" || two === "<=" || two === ">=") {
      tokens.push({ kind: "op", text: two, span: { start, end: start + 2 } });
      pos += 2;
      continue;
    }
    if (two === "&&" || two === "||") {
      fail(
        "expr_syntax",
        `\`${two}\` is not an operator`,
        start,
        start + 2,
        `write \`${two === "&&" ? "and" : "or"}\``,
      );
      return { tokens, diagnostics };
    }
    if (ch === "<" || ch === ">" || ch === "+" || ch === "-" || ch === "*" || ch === "/") {
      tokens.push({ kind: "op", text: ch, span: { start, end: start + 1 } });
      pos++;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === "[" || ch === "]" || ch === ",") {
      tokens.push({ kind: "punct", text: ch, span: { start, end: start + 1 } });
      pos++;
      continue;
    }
    if (ch === "=") {
      fail("expr_syntax", "`=` is not an operator", start, start + 1, "compare with `==`");
      return { tokens, diagnostics };
    }
    if (ch === "!") {
      fail("expr_syntax", "`!` is not an operator", start, start + 1, "write `not`");
      return { tokens, diagnostics };
    }
    fail("expr_syntax", `unexpected character \`${ch}\``, start, start + 1);
    return { tokens, diagnostics };
  }
  tokens.push({ kind: "eof", text: "", span: { start: source.length, end: source.length } });
  return { tokens, diagnostics };
}

/** Reads `14d`, `1d12h`, `2w3d`: units in decreasing order, each at most once, whole numbers. */
function scanDuration(source: string, start: number): { end: number; ms: number } | null {
  const partRe = /^(\d+)(w|d|h|m|s)/;
  let pos = start;
  let ms = 0;
  let lastUnitMs = Number.POSITIVE_INFINITY;
  for (;;) {
    const part = partRe.exec(source.slice(pos));
    if (!part) return null;
    const unitMs = DURATION_UNIT_MS[part[2]!]!;
    if (unitMs >= lastUnitMs) return null;
    lastUnitMs = unitMs;
    ms += Number(part[1]) * unitMs;
    pos += part[0].length;
    const next = source[pos];
    if (isDigit(next)) continue;
    if (next !== undefined && /[A-Za-z_]/.test(next)) return null;
    return { end: pos, ms };
  }
}

function scanString(source: string, start: number, quote: string): { value: string; end: number } | string {
  let value = "";
  let pos = start + 1;
  while (pos < source.length) {
    const ch = source[pos]!;
    if (ch === quote) return { value, end: pos + 1 };
    if (ch === "\\") {
      const next = source[pos + 1];
      const escapes: Record<string, string> = { "\\": "\\", '"': '"', "'": "'", n: "\n", t: "\t" };
      if (next === undefined || !(next in escapes)) return `unknown escape \`\\${next ?? ""}\` in string`;
      value += escapes[next];
      pos += 2;
      continue;
    }
    value += ch;
    pos++;
  }
  return "string is not closed";
}

/**
 * Reads a whole string as an absolute timestamp with the grammar of timestamp literals: an ISO date
 * (UTC midnight) or a date-time with `Z` or `±hh:mm`. Null for anything else, including a date-time
 * without a zone and a day that does not exist.
 *
 * @example parseTimestampText("2026-03-03T15:00:00Z") // 1772550000000
 */
export function parseTimestampText(text: string): number | null {
  const match = DATE_RE.exec(text);
  return match && match[0].length === text.length ? parseIsoTimestamp(match) : null;
}

function parseIsoTimestamp(m: RegExpExecArray): number | null {
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (h !== undefined && zone === undefined) return null;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const ms = Date.UTC(
    year,
    month - 1,
    day,
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
    Number((frac ?? "").padEnd(3, "0")),
  );
  const check = new Date(ms);
  // Date.UTC rolls 2026-02-30 over into March; a rule author meant a real date.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day)
    return null;
  if (Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(s ?? 0) > 59) return null;
  if (zone === undefined || zone === "Z") return ms;
  const sign = zone[0] === "-" ? -1 : 1;
  const offH = Number(zone.slice(1, 3));
  const offM = Number(zone.slice(4, 6));
  if (offH > 23 || offM > 59) return null;
  return ms - sign * (offH * 3_600_000 + offM * 60_000);
}
