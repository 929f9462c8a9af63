/**
 * The rebound-sends queue consumer: for each message, claim the send's row, render its message,
 * deliver it through the row's channel, and record the outcome. It turns "send message M to
 * customer C" into exactly one delivered message:
 *
 * - a redelivered or concurrently consumed message finds the row claimed or finished and does nothing;
 * - a consumer that died between delivery and acknowledgement left the row `sending`: once the lease
 *   lapses the redelivered message repeats the attempt with the same idempotency key (the send id),
 *   so the provider drops the duplicate; a channel without one is not repeated and the send is dead
 *   with "outcome unknown" (docs/sends.md);
 * - channel errors are retried with exponential backoff; 4xx-type errors and exhausted attempts make
 *   the send dead with its last error, visible at GET /v1/sends.
 *
 * On a sharded deployment a message still names only its send: the send id carries its customer's
 * slot (worker/ids.ts), so the batch is split by the shard that slot names (worker/db/shards.ts
 * `slotShards`) and each part is consumed on that shard's database exactly as above, shards in
 * parallel. A send that is not there (made before sharding, or during a growth on the slot's other
 * shard) is looked for on the other shards.
 */
import { type Ruleset, renderSend, type TemplateValues } from "../../dsl";
import { channelFor } from "../channels/registry";
import type { DeliveryOutcome, OutgoingMessage } from "../channels/types";
import { allShards, idShards, isSharded, type Shard } from "../db/shards";
import type { Env } from "../env";
import { idSlot } from "../ids";
import { retryDelaySeconds } from "./backoff";
import { SEND_LIMITS } from "./limits";
import { logSendEvent } from "./log";
import { parseSendQueueMessage } from "./message";
import { type SendSettings, sendSettings } from "./settings";
import {
  changedRows,
  claimDueSends,
  claimSend,
  markDeadStatement,
  markFailedStatement,
  markSentStatement,
} from "./transitions";
import type { JsonValue, SendRow, TemplateVariables } from "./types";

/** What the consumer needs besides the environment. */
export interface ConsumeOptions {
  /** The clock (epoch ms). The queue handler passes Date.now; tests pass a fixed or stepped time. */
  clock: () => number;
  /**
   * The ruleset whose messages are rendered (dsl/runtime/messages.ts `renderSend`), chosen by the
   * entry point: the queue handler passes the deployed one; tests pass any checked one.
   */
  ruleset: Ruleset;
}

/**
 * Consumes one batch from rebound-sends. Every message ends acknowledged or retried with a delay;
 * the messages of a batch are delivered concurrently. Returns what was decided for each message,
 * in batch order (for logs and tests: the queue itself has already been told).
 *
 * D1 work is bounded per batch, whatever its size: one statement claims the batch's due sends, and
 * one D1 batch (a single round trip, one transaction) records every claimed send's outcome, with
 * the outbox channel's deliveries in it. Only messages the claim did not take (redelivered, busy,
 * deferred) cost statements of their own. So a batch holds D1 for two short turns, and a decision
 * request waiting for D1 waits behind at most one of them per consumer invocation (docs/sends.md).
 */
export async function consumeSends(
  batch: MessageBatch<unknown>,
  env: Env,
  options: ConsumeOptions,
): Promise<MessageDecision[]> {
  const settings = sendSettings(env);
  const decisions = isSharded(env)
    ? await consumeAcrossShards(batch.messages, batch.queue, env, options, settings)
    : await consumeOnDatabase(batch.messages, batch.queue, env, options, settings, []);
  batch.messages.forEach((message, index) => {
    const decision = decisions[index] ?? RETRY;
    if (decision.kind === "ack") message.ack();
    else message.retry(decision.delaySeconds === null ? {} : { delaySeconds: decision.delaySeconds });
  });
  return decisions;
}

/**
 * A sharded batch: its messages grouped by the shard their send id's slot names (a malformed body
 * goes with shard 0, which drops it), each group consumed on its shard, all groups at once.
 */
async function consumeAcrossShards(
  messages: readonly Message<unknown>[],
  queue: string,
  env: Env,
  options: ConsumeOptions,
  settings: SendSettings,
): Promise<MessageDecision[]> {
  const groups = new Map<number, { shard: Shard; elsewhere: Shard[]; positions: number[] }>();
  messages.forEach((message, position) => {
    const parsed = parseSendQueueMessage(message.body);
    const candidates = parsed.ok ? idShards(env, idSlot(parsed.message.sendId)) : allShards(env);
    const [shard, ...elsewhere] = candidates as [Shard, ...Shard[]];
    const group = groups.get(shard.index) ?? { shard, elsewhere, positions: [] };
    group.positions.push(position);
    groups.set(shard.index, group);
  });
  const decisions: MessageDecision[] = messages.map(() => RETRY);
  await Promise.all(
    [...groups.values()].map(async ({ shard, elsewhere, positions }) => {
      const shardEnv: Env = { ...env, DB: shard.db };
      const part = await consumeOnDatabase(
        positions.map((position) => messages[position]!),
        queue,
        shardEnv,
        options,
        settings,
        elsewhere.map((other) => ({ ...env, DB: other.db })),
      );
      part.forEach((decision, i) => {
        decisions[positions[i]!] = decision;
      });
    }),
  );
  return decisions;
}

/**
 * Consumes `messages` on `env.DB` (the one database, or one shard). A send missing there is looked
 * for in the `elsewhere` environments in turn (their databases are the other shards).
 */
async function consumeOnDatabase(
  messages: readonly Message<unknown>[],
  queue: string,
  env: Env,
  options: ConsumeOptions,
  settings: SendSettings,
  elsewhere: readonly Env[],
): Promise<MessageDecision[]> {
  const bodies = messages.map((message) => parseSendQueueMessage(message.body));
  // One statement claims every due queued or failed send of the batch (the common case); the rest
  // (taken over, busy, finished, deferred, missing, or a second message for the same send) go
  // through claimSend one by one.
  let claimed = new Map<string, SendRow>();
  try {
    const ids = [...new Set(bodies.flatMap((body) => (body.ok ? [body.message.sendId] : [])))];
    claimed = await claimDueSends(env.DB, ids, options.clock(), settings.leaseMs);
  } catch (error) {
    logSendEvent("send.consumer_error", { queue, error: describe(error) });
  }
  const steps = await Promise.all(
    messages.map(async (message, index): Promise<MessageDecision | Attempt> => {
      try {
        const body = bodies[index];
        const row = body?.ok ? claimed.get(body.message.sendId) : undefined;
        if (row) {
          claimed.delete(row.id);
          return await attemptClaimed(row, false, env, options, settings);
        }
        return await processOnFirstHolder(message.body, [env, ...elsewhere], options, settings);
      } catch (error) {
        // D1 or the queue failed under us: let the queue redeliver with its own delay; after
        // max_retries the message goes to the dead-letter queue, whose consumer marks the send dead.
        logSendEvent("send.consumer_error", { messageId: message.id, error: describe(error) });
        return RETRY;
      }
    }),
  );
  return recordAttempts(env.DB, steps, queue);
}

/** `processSendMessage` on the first environment whose database holds the send. */
async function processOnFirstHolder(
  body: unknown,
  envs: readonly Env[],
  options: ConsumeOptions,
  settings: SendSettings,
): Promise<MessageDecision> {
  for (const [index, env] of envs.entries()) {
    const decision = await processSend(body, env, options, settings, index === envs.length - 1);
    if (decision !== MISSING) return decision;
  }
  return ACK;
}

/** What to do with a queue message once it has been handled (`null` delay: the queue's default). */
export type MessageDecision = { kind: "ack" } | { kind: "retry"; delaySeconds: number | null };

const ACK: MessageDecision = { kind: "ack" };
const RETRY: MessageDecision = { kind: "retry", delaySeconds: null };

/**
 * A delivery attempt whose outcome is known but not yet stored: the statements that store it (the
 * outbox channel's delivery, if any, then the conditional UPDATE of the send, always last) and what
 * to tell the queue once they ran (`recorded`: the UPDATE found the claim still current).
 */
interface Attempt {
  kind: "record";
  statements: D1PreparedStatement[];
  settle: (recorded: boolean) => MessageDecision;
}

/**
 * Stores the outcomes of a batch's attempts in one D1 batch and turns every step into the queue's
 * answer. If the D1 batch fails, none of it was stored (it is one transaction): the rows stay
 * `sending`, and their redelivered messages take them over once the lease lapses.
 */
async function recordAttempts(
  db: D1Database,
  steps: readonly (MessageDecision | Attempt)[],
  queue: string,
): Promise<MessageDecision[]> {
  const attempts = steps.filter((step): step is Attempt => step.kind === "record");
  if (attempts.length === 0) return steps as MessageDecision[];
  let results: D1Result[];
  try {
    results = await db.batch(attempts.flatMap((attempt) => attempt.statements));
  } catch (error) {
    logSendEvent("send.consumer_error", { queue, error: describe(error) });
    return steps.map((step) => (step.kind === "record" ? RETRY : step));
  }
  let statementIndex = 0;
  return steps.map((step) => {
    if (step.kind !== "record") return step;
    statementIndex += step.statements.length;
    const update = results[statementIndex - 1];
    return step.settle(update !== undefined && changedRows(update));
  });
}

/**
 * Handles one rebound-sends message body and says whether to acknowledge it or retry it later.
 * Exported so tests can drive one message at a known time.
 */
export async function processSendMessage(
  body: unknown,
  env: Env,
  options: ConsumeOptions,
  settings: SendSettings,
): Promise<MessageDecision> {
  return (await processSend(body, env, options, settings, true)) as MessageDecision;
}

/** Said by `processSend` when the send is not in this database and `lastPlace` is false. */
const MISSING = Symbol("missing");

async function processSend(
  body: unknown,
  env: Env,
  options: ConsumeOptions,
  settings: SendSettings,
  lastPlace: boolean,
): Promise<MessageDecision | typeof MISSING> {
  const parsed = parseSendQueueMessage(body);
  if (!parsed.ok) {
    // No send to mark: retrying cannot fix a malformed body, so it is logged and dropped.
    logSendEvent("send.bad_message", { error: parsed.error });
    return ACK;
  }
  const sendId = parsed.message.sendId;
  const claim = await claimSend(env.DB, sendId, options.clock(), settings.leaseMs);
  switch (claim.kind) {
    case "missing":
      if (!lastPlace) return MISSING;
      logSendEvent("send.missing", { sendId });
      return ACK;
    case "finished":
      return ACK;
    case "busy":
      return retryAt(claim.leaseExpiresAt, options.clock());
    case "early":
      return retryAt(claim.dueAt, options.clock());
    case "claimed": {
      const attempt = await attemptClaimed(claim.row, claim.resumed, env, options, settings);
      const results = await env.DB.batch(attempt.statements);
      const update = results.at(-1);
      return attempt.settle(update !== undefined && changedRows(update));
    }
  }
}

/**
 * Renders and delivers a claimed send, and says how to record the outcome. A channel whose delivery
 * is a D1 write (the outbox) is not called: its statement goes into the record instead.
 */
async function attemptClaimed(
  row: SendRow,
  resumed: boolean,
  env: Env,
  options: ConsumeOptions,
  settings: SendSettings,
): Promise<Attempt> {
  const channel = channelFor(row.channel, env);
  const dead = (error: string): Attempt => ({
    kind: "record",
    statements: [markDeadStatement(env.DB, row, options.clock(), error)],
    settle: (recorded) => {
      if (recorded) {
        logSendEvent("send.dead", { sendId: row.id, channel: row.channel, attempts: row.attempts, error });
      }
      return ACK;
    },
  });
  const sent = (now: number, providerMessageId: string | null, delivery: D1PreparedStatement[]): Attempt => ({
    kind: "record",
    statements: [...delivery, markSentStatement(env.DB, row, now, providerMessageId)],
    settle: (recorded) => {
      // The row is the record of a success; only a superseded claim is worth a log line.
      if (!recorded) logSendEvent("send.superseded", { sendId: row.id, attempts: row.attempts });
      return ACK;
    },
  });

  if (resumed && !channel.idempotent) {
    return dead(
      `outcome unknown: attempt ${row.attempts - 1} stopped during delivery; not repeated because the ` +
        `${row.channel} channel has no idempotency key`,
    );
  }
  if (row.attempts > row.max_attempts) {
    return dead(`gave up after ${row.max_attempts} attempts; last error: ${row.last_error ?? "none"}`);
  }

  const variables = parseVariables(row.variables);
  const rendered = renderSend(
    options.ruleset,
    row.message_key,
    templateValues(variables, env.COMPANY_NAME),
    env.COMPANY_NAME,
  );
  if (!rendered) return dead(`message "${row.message_key}" is not in the ruleset`);

  const message: OutgoingMessage = {
    sendId: row.id,
    customerId: row.customer_id,
    recipient: row.recipient,
    messageKey: row.message_key,
    subject: rendered.subject,
    text: rendered.body,
    html: null,
    programme: {
      kind: row.programme_kind,
      key: row.programme_key,
      occurrence: row.occurrence,
      step: row.step,
    },
    variables,
  };
  const context = { now: options.clock(), timeoutMs: settings.deliveryTimeoutMs };
  if (channel.deliveryStatement) {
    return sent(context.now, row.id, [channel.deliveryStatement(message, context)]);
  }

  let outcome: DeliveryOutcome;
  try {
    outcome = await channel.deliver(message, context);
  } catch (error) {
    // Channels report provider failures as outcomes; a throw is unexpected, so its effect is unknown.
    outcome = {
      kind: "retryable",
      error: `${row.channel} channel threw: ${describe(error)}`,
      outcomeUnknown: true,
    };
  }

  const now = options.clock();
  switch (outcome.kind) {
    case "sent":
      return sent(now, outcome.providerMessageId, []);
    case "permanent":
      return dead(outcome.error);
    case "retryable": {
      if (outcome.outcomeUnknown && !channel.idempotent) {
        return dead(
          `outcome unknown: ${outcome.error}; not retried because the ${row.channel} channel has no idempotency key`,
        );
      }
      if (row.attempts >= row.max_attempts) {
        return dead(`gave up after ${row.attempts} attempts; last error: ${outcome.error}`);
      }
      // An operator's retry starts the backoff over: count attempts since the limit was last set.
      const attemptOfRound = row.attempts - (row.max_attempts - SEND_LIMITS.maxAttempts);
      const delaySeconds = retryDelaySeconds(
        row.id,
        attemptOfRound,
        outcome.retryAfterSeconds,
        settings.retryBaseSeconds,
      );
      const error = outcome.error;
      return {
        kind: "record",
        statements: [markFailedStatement(env.DB, row, now, error, now + delaySeconds * 1000)],
        settle: (recorded) => {
          if (!recorded) return ACK;
          logSendEvent("send.failed", {
            sendId: row.id,
            channel: row.channel,
            attempts: row.attempts,
            retryInSeconds: delaySeconds,
            error,
          });
          return { kind: "retry", delaySeconds };
        },
      };
    }
  }
}

/** Retry no sooner than `dueAt`, in whole seconds, within the queue's delay limit. */
function retryAt(dueAt: number, now: number): MessageDecision {
  const delaySeconds = Math.min(
    SEND_LIMITS.maxQueueDelaySeconds,
    Math.max(1, Math.ceil((dueAt - now) / 1000)),
  );
  return { kind: "retry", delaySeconds };
}

function parseVariables(json: string): TemplateVariables {
  const parsed: unknown = JSON.parse(json);
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as TemplateVariables)
    : {};
}

/**
 * The snapshot as the templates read it: every value as text; `company_name` falls back to the
 * deployment's COMPANY_NAME when the snapshot has none. A dry-run tick renders with it too
 * (worker/tick/dry-run.ts), so it shows exactly what the consumer will deliver.
 */
export function templateValues(variables: TemplateVariables, companyName: string): TemplateValues {
  const values: Record<string, string | null> = { company_name: companyName };
  for (const [name, value] of Object.entries(variables)) values[name] = textOf(value);
  return values;
}

function textOf(value: JsonValue): string | null {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
