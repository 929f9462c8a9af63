/**
 * Every size limit of the rule language in one frozen object, so a ruleset can never grow past what
 * the edge evaluates quickly and D1 accepts (100 bound parameters per statement, bounded CPU time).
 *
 * Stage: read by the parser and checker (expressions) and by the ruleset checker (files and rules).
 * Exceeding any of them is a `limit_exceeded` diagnostic, never a crash.
 */
export const LIMITS = Object.freeze({
  /** Characters in one expression string. */
  maxExpressionLength: 2_000,
  /** Nesting depth of one expression (parentheses, operators, calls). */
  maxExpressionDepth: 24,
  /** AST nodes in one expression. */
  maxExpressionNodes: 200,
  /** Items in one list literal (`in [...]`). */
  maxListItems: 100,
  /** Characters in one string literal. */
  maxStringLength: 200,
  /** Event aggregates (`count`, `sum`, `last`) in one expression: each is a subquery in SQL. */
  maxEventAggregates: 12,
  /** Longest duration literal or aggregate window: 10 years. */
  maxDurationMs: 3_650 * 86_400_000,
  /** Longest attribution window a campaign's `conversion.within` may set. */
  maxConversionWindowMs: 365 * 86_400_000,
  /** Bound parameters one compiled WHERE fragment may use (D1 allows 100 per statement; some are kept for paging). */
  maxSqlParams: 80,
  /** Segment references may nest this deep (segment → segment → ...). */
  maxSegmentDepth: 8,
  /** Rule files in one ruleset and bytes per file. */
  maxFiles: 64,
  maxFileBytes: 256 * 1024,
  /** Rules of each kind in one ruleset. */
  maxSegments: 200,
  maxOffers: 200,
  maxCampaigns: 50,
  maxMessages: 500,
  maxRewards: 200,
  maxCustomFields: 100,
  /** Diagnostics collected before the checker stops reporting more. */
  maxDiagnostics: 50,
});

export type Limits = typeof LIMITS;
