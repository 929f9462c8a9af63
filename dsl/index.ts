/**
 * The rule language's one entry point: everything the Worker (worker/) and the benchmarks (bench/)
 * may use of it. Nothing outside dsl/ imports a file under dsl/ but this one (the CLI, dsl/cli/, is
 * a part of the language; tests may reach inside to test a stage on its own). test/dsl/layers.test.ts
 * keeps it so.
 *
 * The language in layers, each importing only the ones above it:
 *   errors.ts, limits.ts  diagnostics and size limits, shared by every stage
 *   expr/                 the expression language: lexer → parser → typecheck → compile (closures) | sql (D1)
 *   time/                 calendar, zone names, wall clock, quiet hours, cron: parse | occurrences
 *   rules/                rule files: load → read shape → check (ordered passes) → the IR (rules/ruleset.ts)
 *   runtime/              the IR compiled once per isolate: decide, programmes, messages, explain
 *   cli/                  `rebound`: validate, test, build, explain, preview, plan, tick
 *   plan-report.ts        the wire format of `POST /v1/admin/plan`, shared with `rebound plan`
 */

// The expression language.
export type { Expr } from "./expr/ast";
export { compileExpression } from "./expr/compile";
export { type Exchange, toRulesetCurrency } from "./expr/exchange";
export { buildScope, DEFAULT_REASONS, parseFieldType } from "./expr/fields";
export { compileFirstMatch } from "./expr/first-match";
export { parseExpression } from "./expr/parser";
export type { EventWindows } from "./expr/reads";
export { bindSql } from "./expr/sql";
export { holds } from "./expr/three-valued";
export type { Closure, EvalContext, EventRecord, ExprType, SqlFragment } from "./expr/types";
export { children, walk } from "./expr/walk";
// What a plan answers (the Worker writes it, `rebound plan` reads and merges it).
export {
  mergePlanPages,
  PLAN_EXAMPLES,
  type PlanCampaignRow,
  type PlanCampaignStats,
  type PlanOfferMove,
  type PlanOfferRow,
  type PlanProgrammeCounts,
  type PlanProgrammeKind,
  type PlanProgrammeRow,
  type PlanReport,
  type PlanSegmentRow,
} from "./plan-report";
// Rule files and the checked ruleset (the IR).
export { checkRuleset } from "./rules/check";
export { OFFER_CONTEXTS, type OfferContext, type RulesetIR, type StepIR } from "./rules/ruleset";
// The runtime: the IR compiled once, deciding and rendering.
export { bucketOf } from "./runtime/bucket";
export {
  type ChosenOffer,
  decideOffer,
  type HeldOffer,
  heldOfferOutranks,
  heldOfferServes,
  type OfferDecision,
  type OfferTraceEntry,
  type PastOffer,
  withdrawalOf,
} from "./runtime/decide";
export { type OfferInputs, offerInputs } from "./runtime/explain";
export {
  criticalValue,
  type GroupCounts,
  type Interval,
  katzRiskRatioInterval,
  LIFT_DEFAULTS,
  type LiftEstimate,
  type LiftGroups,
  type LiftOptions,
  type LiftResult,
  liftAgainstHoldout,
  newcombeInterval,
  normalQuantile,
  wilsonInterval,
} from "./runtime/lift";
export {
  messageVariables,
  type RenderedMessage,
  type RenderedSend,
  renderMessage,
  renderSend,
  rewardCost,
  rewardJson,
  type TemplateValues,
} from "./runtime/messages";
export {
  campaignAssignment,
  DAY_MS,
  dunningPosition,
  inactivityDue,
  winbackPosition,
} from "./runtime/programmes";
export type { Reads, RulesetReads } from "./runtime/reads";
export { amountFor, rewardIn } from "./runtime/reward-currency";
export { type CompiledCampaign, type CompiledDunning, loadRuleset, type Ruleset } from "./runtime/ruleset";
export { civilFromDays, daysFromCivil } from "./time/calendar";
// Time.
export { latestOccurrences, occurrencesBetween, previousOccurrence } from "./time/cron-occurrences";
export { isQuiet, nextAllowedTime, type QuietHours } from "./time/quiet-hours";
export { utcOffsetMs, zonedTimeToInstant } from "./time/wall-clock";
export { isValidTimeZone } from "./time/zones";
