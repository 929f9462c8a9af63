/**
 * The rebound-ticks consumer: runs each message's unit (units.ts) on its shard, as `runTick`
 * restricted to that unit, with the shard's database as the tick's (counted by its QueryBudget) and
 * the message's `at` as the tick's "now". Each unit runs once: campaign units are claimed in the
 * shard's `campaign_runs`, the others in its `tick_units` (unit-claims.ts), so a duplicated message
 * does nothing and a redelivered one (its consumer crashed or failed) takes the unit over where it
 * stopped. A unit that fails (its shard's D1 errors) is retried with a delay; the messages of other
 * shards are not held up. A campaign unit that ran out of its invocation's queries is retried at
 * once: the redelivery takes the run over from its cursor in a fresh invocation (and should the
 * queue give up, a later tick's publish unit resumes it). A message the queue gives up on lands in rebound-ticks-dlq, where it is
 * logged: a later tick resumes its campaign run (dispatch.ts) and catches its programme up.
 *
 * Flow: dispatch.ts → rebound-ticks → worker/queue/index.ts → consumeTickUnits → runTick.
 */
import type { Ruleset } from "../../dsl";
import { shardDatabase, shardPlan } from "../db/shards";
import type { Env } from "../env";
import { TICK_LIMITS } from "./limits";
import { logTickEvent } from "./log";
import type { TickReport } from "./report";
import { runTick } from "./run-tick";
import { parseTickUnitMessage, unitKey } from "./units";

/** What the consumer decided for one message (returned for logs and tests; the queue was told). */
export type UnitOutcome =
  | { kind: "ack"; report: TickReport | null }
  | { kind: "retry"; delaySeconds: number; error: string };

/** The first retry of a failed unit waits this long; each next one twice as long, up to the cap. */
const RETRY_BASE_SECONDS = 30;
const RETRY_CAP_SECONDS = 600;
/** A campaign unit paused on the query budget continues this soon, in a new invocation. */
const CONTINUE_SECONDS = 1;

export interface ConsumeUnitsOptions {
  /** The ruleset every unit runs with (the queue handler passes the deployed one). */
  ruleset: Ruleset;
  /** D1 queries the batch may spend, split evenly between its messages (default TICK_LIMITS.queryBudget). */
  queryBudget?: number;
  audiencePageSize?: number;
}

/**
 * Runs every unit of a rebound-ticks batch (concurrently: they may be on different shards) and acks
 * or retries each message. Returns the outcome of each, in batch order.
 */
export async function consumeTickUnits(
  batch: MessageBatch<unknown>,
  env: Env,
  options: ConsumeUnitsOptions,
): Promise<UnitOutcome[]> {
  const perMessage = Math.floor(
    (options.queryBudget ?? TICK_LIMITS.queryBudget) / Math.max(1, batch.messages.length),
  );
  return Promise.all(
    batch.messages.map(async (message) => {
      const outcome = await runUnitMessage(message, env, { ...options, queryBudget: perMessage });
      if (outcome.kind === "ack") message.ack();
      else message.retry({ delaySeconds: outcome.delaySeconds });
      return outcome;
    }),
  );
}

async function runUnitMessage(
  message: Message<unknown>,
  env: Env,
  options: ConsumeUnitsOptions,
): Promise<UnitOutcome> {
  const parsed = parseTickUnitMessage(message.body);
  if (!parsed.ok) {
    // Retrying cannot fix a malformed body.
    logTickEvent("tick.unit_bad_message", { messageId: message.id, error: parsed.error });
    return { kind: "ack", report: null };
  }
  const { at, shard, unit } = parsed.message;
  const unitName = unitKey(unit);
  if (shard >= shardPlan(env).count) {
    logTickEvent("tick.unit_error", { shard, unit: unitName, error: "no such shard in this deployment" });
    return { kind: "ack", report: null };
  }
  try {
    const report = await runTick(env, at, {
      ruleset: options.ruleset,
      shard: { index: shard, db: shardDatabase(env, shard) },
      unit,
      redelivered: message.attempts > 1,
      ...(options.queryBudget === undefined ? {} : { queryBudget: options.queryBudget }),
      ...(options.audiencePageSize === undefined ? {} : { audiencePageSize: options.audiencePageSize }),
    });
    if (report.errors.length > 0)
      return retry(message, shard, unitName, report.errors.map((error) => error.message).join("; "));
    if (unit.kind === "campaign" && report.campaigns.some((run) => run.status === "paused"))
      return {
        kind: "retry",
        delaySeconds: CONTINUE_SECONDS,
        error: "paused: the invocation's query budget was used",
      };
    return { kind: "ack", report };
  } catch (error) {
    return retry(
      message,
      shard,
      unitName,
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    );
  }
}

function retry(message: Message<unknown>, shard: number, unit: string, error: string): UnitOutcome {
  const delaySeconds = Math.min(
    RETRY_CAP_SECONDS,
    RETRY_BASE_SECONDS * 2 ** Math.max(0, message.attempts - 1),
  );
  logTickEvent("tick.unit_error", {
    shard,
    unit,
    attempts: message.attempts,
    retryInSeconds: delaySeconds,
    error,
  });
  return { kind: "retry", delaySeconds, error };
}

/**
 * The rebound-ticks-dlq consumer: a unit the queue gave up on is logged and acknowledged. Nothing
 * is lost: its campaign run stays `running` and a later tick's publish unit resumes it once its
 * lease lapses; dunning, lifecycle and the archive catch up on the next tick of that shard.
 */
export function consumeDeadTickUnits(batch: MessageBatch<unknown>): void {
  for (const message of batch.messages) {
    const parsed = parseTickUnitMessage(message.body);
    logTickEvent("tick.unit_dead_lettered", {
      queue: batch.queue,
      shard: parsed.ok ? parsed.message.shard : null,
      unit: parsed.ok ? unitKey(parsed.message.unit) : null,
      at: parsed.ok ? new Date(parsed.message.at).toISOString() : null,
    });
    message.ack();
  }
}
