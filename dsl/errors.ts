/**
 * Diagnostics: every error a rule author can cause, with a stable code and a place in a file.
 *
 * Stage: shared by every stage (load → parse → check → compile). Tests assert `code` and the
 * position, never the wording of `message`.
 */

/** A half-open span of UTF-16 offsets inside one piece of text (an expression or a whole file). */
export interface Span {
  start: number;
  end: number;
}

/** An error found inside an expression string; `span` is relative to the expression's own text. */
export interface ExprDiagnostic {
  code: DiagnosticCode;
  message: string;
  span: Span;
  /** A short suggestion, e.g. "did you mean `ltv`?" */
  hint?: string;
}

/** An error located in a rule file: 1-based line and column (column counts UTF-16 units). */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: "error" | "warning";
  message: string;
  file: string;
  line: number;
  column: number;
  /** Where the underlined region ends (same line as `line` when possible), exclusive. */
  endLine: number;
  endColumn: number;
  hint?: string;
}

/**
 * Stable error codes. Add new codes here; never rename one (CI pipelines and tests match on them).
 */
export const DIAGNOSTIC_CODES = [
  // text and structure
  "yaml_syntax",
  "schema_violation",
  "duplicate_key",
  "limit_exceeded",
  // expressions
  "expr_syntax",
  "unknown_field",
  "unknown_function",
  "wrong_arity",
  "type_mismatch",
  "currency_mismatch",
  "no_exchange_rate",
  "not_sql_translatable",
  // references between rules
  "unknown_segment",
  "unknown_reason",
  "unknown_reward",
  "unknown_message",
  "unknown_event_type",
  "unknown_template_variable",
  "segment_cycle",
  // literals and schedules
  "bad_duration",
  "bad_money",
  "bad_timestamp",
  "bad_cron",
  "unknown_timezone",
  "bad_quiet_hours",
  "bad_weights",
  // rule references and templates
  "unknown_offer",
  "unknown_plan",
  "unknown_frequency_cap",
  "template_syntax",
  // expression values
  "unknown_enum_value",
  // storage
  "window_beyond_retention",
  // test files: a campaign, win-back sequence, inactivity rule or dunning cadence the rules lack
  "unknown_rule",
  // warnings: a definition nothing in the rules uses
  "unused_segment",
  "unused_reward",
  "unused_message",
] as const;

export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];
