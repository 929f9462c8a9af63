/**
 * The runtime ruleset: a checked IR compiled once into closures, SQL fragments, parsed schedules and
 * templates. The Worker builds it once per isolate from worker/generated/ruleset.json; the CLI builds
 * it after checking. Evaluating a customer never parses or compiles anything.
 *
 * Stage: IR (dsl/rules/ruleset.ts) → runtime. Decisions live in dsl/runtime/decide.ts, the scheduled programmes in
 * dsl/runtime/programmes.ts, message rendering in dsl/runtime/messages.ts, condition traces in dsl/runtime/explain.ts.
 */

import { compileExpression } from "../expr/compile";
import type { Exchange } from "../expr/exchange";
import { buildScope, parseFieldType } from "../expr/fields";
import { expressionToSql, membershipSql, type SqlOptions } from "../expr/sql";
import { holds } from "../expr/three-valued";
import type { Closure, EvalContext, ExprType, Scope, SqlFragment } from "../expr/types";
import {
  type CampaignIR,
  type CardExpiryIR,
  type DunningIR,
  type ExpressionIR,
  type InactivityIR,
  type MessageIR,
  type OfferIR,
  type RewardIR,
  RULESET_FORMAT,
  type RulesetIR,
  type WinbackIR,
} from "../rules/ruleset";
import { type ParsedTemplate, parseTemplate } from "../rules/template";
import { type CronSchedule, parseCron } from "../time/cron-parse";
import { parseQuietHours, type QuietHours } from "../time/quiet-hours";
import { type RulesetReads, rulesetReads } from "./reads";

/** A compiled condition: `test` is true only when the expression is true (false and unknown fail). */
export interface CompiledCondition {
  readonly ir: ExpressionIR;
  readonly closure: Closure;
  readonly test: (ctx: EvalContext) => boolean;
  /** `test` as a closure: what a segment reference evaluates to (membership is never unknown). */
  readonly membership: Closure;
}

export interface CompiledSegment {
  readonly key: string;
  readonly description: string | null;
  readonly when: CompiledCondition;
  /** WHERE fragment over `customers c`; null when the segment cannot run in SQL. */
  readonly sql: SqlFragment | null;
}

export interface CompiledOffer {
  readonly ir: OfferIR;
  readonly key: string;
  readonly when: CompiledCondition | null;
}

/** A message's templates, parsed once at load (dsl/runtime/messages.ts renders them). */
export interface CompiledMessage {
  readonly ir: MessageIR;
  /** Null: the message has no subject (what that means: dsl/runtime/messages.ts). */
  readonly subject: ParsedTemplate | null;
  readonly body: ParsedTemplate;
}

export interface CompiledInactivity {
  readonly ir: InactivityIR;
  readonly when: CompiledCondition | null;
}

export interface CompiledDunning {
  readonly ir: DunningIR;
  readonly when: CompiledCondition | null;
}

export interface CompiledWinback {
  readonly ir: WinbackIR;
  readonly when: CompiledCondition | null;
}

export interface CompiledCampaign {
  readonly ir: CampaignIR;
  readonly key: string;
  readonly schedule: CronSchedule;
  readonly timezone: string;
  readonly quietHours: QuietHours | null;
  /** The audience for one customer (closures). */
  readonly audience: CompiledCondition;
  /**
   * The same audience as a WHERE fragment over `customers c`; bind with `bindSql(sql, now)`. Lists
   * are written as literals (`lists: "literal"`): the tick scans many customers with it.
   */
  readonly audienceSql: SqlFragment;
}

/** A checked ruleset, compiled once. Read-only; safe to share across requests. */
export interface Ruleset {
  readonly ir: RulesetIR;
  /** Content hash of the rule sources: stamp it on every decision and send. */
  readonly version: string;
  readonly currency: string;
  /** `settings.exchange_rates` into `currency` (dsl/expr/exchange.ts); the scope's too. */
  readonly exchange: Exchange;
  readonly defaultTimezone: string;
  /** The zone of the reports' days (`settings.metrics.timezone`): an IANA zone, or `customer`. */
  readonly metricsTimezone: string;
  /** `settings.metrics.winback_window` in ms. */
  readonly winbackWindowMs: number;
  /** Events the closures need: at least those newer than `now - eventWindowMs`; null: all of them. */
  readonly eventWindowMs: number | null;
  readonly scope: Scope;
  readonly segments: ReadonlyMap<string, CompiledSegment>;
  readonly rewards: ReadonlyMap<string, RewardIR>;
  /** Highest priority first: the order decisions evaluate them in. */
  readonly offers: readonly CompiledOffer[];
  readonly offerPolicy: RulesetIR["offerPolicy"];
  readonly frequencyCaps: ReadonlyMap<string, { readonly max: number; readonly perMs: number }>;
  readonly reasons: ReadonlyMap<string, { readonly description: string | null; readonly offers: boolean }>;
  readonly messages: ReadonlyMap<string, CompiledMessage>;
  readonly inactivity: readonly CompiledInactivity[];
  readonly dunning: readonly CompiledDunning[];
  readonly cardExpiry: CardExpiryIR | null;
  readonly winback: readonly CompiledWinback[];
  readonly campaigns: ReadonlyMap<string, CompiledCampaign>;
  /**
   * What each offer, segment and programme reads (fields, custom attributes, event types with their
   * longest windows, segments transitively), computed here once, e.g.
   * `ruleset.reads.offers.get("competitor_switch")!.eventTypes` or `ruleset.reads.decision.eventTypes`
   * for the events a decision loads. See dsl/runtime/reads.ts.
   */
  readonly reads: RulesetReads;
}

/** Thrown when an IR is not what `rebound build` writes (wrong format, or not checked). */
export class RulesetLoadError extends Error {}

/**
 * Compiles a checked IR. Throws `RulesetLoadError` for an IR that does not compile (which the
 * checker rules out): a broken artifact must stop the Worker from starting, not answer wrongly.
 *
 * @example const ruleset = loadRuleset(generatedRuleset as RulesetIR);
 */
export function loadRuleset(ir: RulesetIR): Ruleset {
  if (ir.format !== RULESET_FORMAT)
    throw new RulesetLoadError(`unsupported ruleset format ${String(ir.format)}`);
  const customFields = ir.fields.map((field) => {
    const type = parseFieldType(field.type);
    if ("error" in type) throw new RulesetLoadError(`field ${field.name}: ${type.error}`);
    return { name: field.name, type: type as ExprType, description: field.description ?? "" };
  });
  const segmentInfo = new Map(
    ir.segments.map((s) => [s.key, { name: s.key, sqlTranslatable: s.when.sqlTranslatable }]),
  );
  const scope: Scope = {
    ...buildScope({
      defaultCurrency: ir.currency,
      exchangeRates: ir.exchangeRates ?? {},
      reasons: ir.reasons.map((r) => r.key),
      ...(ir.plans ? { plans: ir.plans } : {}),
      customFields,
    }),
    segments: segmentInfo,
  };
  const segments = new Map<string, CompiledSegment>();
  const segmentClosure = (name: string): Closure => {
    const segment = segments.get(name);
    if (!segment) throw new RulesetLoadError(`segment ${name} is used before it is compiled`);
    return segment.when.membership;
  };
  const segmentSql = (name: string): SqlFragment => {
    const sql = segments.get(name)?.sql;
    if (!sql) throw new RulesetLoadError(`segment ${name} has no SQL`);
    return membershipSql(sql);
  };
  // Audiences inline their segments with literal lists too, so one fragment has one list form.
  const literalSegmentSql = new Map<string, SqlFragment>();
  const audienceSegmentSql = (name: string): SqlFragment => {
    let sql = literalSegmentSql.get(name);
    if (!sql) {
      const segment = ir.segments.find((candidate) => candidate.key === name);
      if (!segment || !segments.get(name)?.sql) throw new RulesetLoadError(`segment ${name} has no SQL`);
      sql = membershipSql(expressionToSql(segment.when.ast, { scope, segment: audienceSegmentSql }, LITERAL));
      literalSegmentSql.set(name, sql);
    }
    return sql;
  };
  const condition = (expression: ExpressionIR): CompiledCondition => {
    const closure = compileExpression(expression.ast, { scope, segment: segmentClosure });
    return {
      ir: expression,
      closure,
      test: (ctx) => holds(closure(ctx)),
      membership: (ctx) => holds(closure(ctx)),
    };
  };
  const optional = (expression: ExpressionIR | null): CompiledCondition | null =>
    expression ? condition(expression) : null;
  for (const segment of ir.segments) {
    let sql: SqlFragment | null = null;
    if (segment.when.sqlTranslatable) {
      try {
        sql = expressionToSql(segment.when.ast, { scope, segment: segmentSql });
      } catch {
        // Too large for one D1 statement: closures still evaluate it; campaigns may not use it (checked).
        sql = null;
      }
    }
    segments.set(segment.key, {
      key: segment.key,
      description: segment.description,
      when: condition(segment.when),
      sql,
    });
  }
  const campaigns = new Map<string, CompiledCampaign>();
  for (const campaign of ir.campaigns) {
    const cron = parseCron(campaign.schedule);
    if (!cron.schedule) throw new RulesetLoadError(`campaign ${campaign.key}: bad schedule`);
    const quiet = campaign.quietHours ? parseQuietHours(campaign.quietHours).quietHours : null;
    campaigns.set(campaign.key, {
      ir: campaign,
      key: campaign.key,
      schedule: cron.schedule,
      timezone: campaign.timezone,
      quietHours: quiet ?? null,
      audience: condition(campaign.audience),
      audienceSql: expressionToSql(campaign.audience.ast, { scope, segment: audienceSegmentSql }, LITERAL),
    });
  }
  const messages = new Map<string, CompiledMessage>();
  for (const message of ir.messages) {
    const template = (part: "subject" | "body", text: string): ParsedTemplate => {
      const parsed = parseTemplate(text);
      const problem = parsed.diagnostics[0];
      if (problem) throw new RulesetLoadError(`message ${message.key} ${part}: ${problem.message}`);
      return parsed.template;
    };
    messages.set(message.key, {
      ir: message,
      subject: message.subject === null ? null : template("subject", message.subject),
      body: template("body", message.body),
    });
  }
  return {
    ir,
    version: ir.version,
    currency: ir.currency,
    exchange: scope.exchange!,
    defaultTimezone: ir.defaultTimezone,
    metricsTimezone: ir.metrics.timezone,
    winbackWindowMs: ir.metrics.winbackWindowMs,
    eventWindowMs: ir.eventWindowMs,
    scope,
    segments,
    rewards: new Map(ir.rewards.map((r) => [r.key, r])),
    offers: ir.offers.map((offer) => ({ ir: offer, key: offer.key, when: optional(offer.when) })),
    offerPolicy: ir.offerPolicy,
    frequencyCaps: new Map(ir.frequencyCaps.map((c) => [c.key, { max: c.max, perMs: c.perMs }])),
    reasons: new Map(ir.reasons.map((r) => [r.key, { description: r.description, offers: r.offers }])),
    messages,
    inactivity: ir.inactivity.map((rule) => ({ ir: rule, when: optional(rule.when) })),
    dunning: ir.dunning.map((cadence) => ({ ir: cadence, when: optional(cadence.when) })),
    cardExpiry: ir.cardExpiry,
    winback: ir.winback.map((sequence) => ({ ir: sequence, when: optional(sequence.when) })),
    campaigns,
    reads: rulesetReads(ir, scope),
  };
}

const LITERAL: SqlOptions = { lists: "literal" };

/**
 * The segments a customer is in, in dependency order.
 *
 * @example segmentsOf(ruleset, { now, customer, events }) // ["high_value", "price_churner"]
 */
export function segmentsOf(ruleset: Ruleset, ctx: EvalContext): string[] {
  const keys: string[] = [];
  for (const segment of ruleset.segments.values()) if (segment.when.test(ctx)) keys.push(segment.key);
  return keys;
}
