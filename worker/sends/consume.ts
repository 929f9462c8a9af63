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
 */
import { type Ruleset, renderSend, type TemplateValues } from "../../dsl";
import { channelFor } from "../channels/registry";
import type { DeliveryOutcome } from "../channels/types";
import type { Env } from "../env";
import { retryDelaySeconds } from "./backoff";
import { SEND_LIMITS } from "./limits";
import { logSendEvent } from "./log";
import { parseSendQueueMessage } from "./message";
import { type SendSettings, sendSettings } from "./settings";
import { claimDueSends, claimSend, markDead, markFailed, markSent } from "./transitions";
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
 */
export async function consumeSends(
  batch: MessageBatch<unknown>,
  env: Env,
  options: ConsumeOptions,
): Promise<MessageDecision[]> {
  const settings = sendSettings(env);
  const bodies = batch.messages.map((message) => parseSendQueueMessage(message.body));
  // One statement claims every due queued or failed send of the batch (the common case); the rest
  // (taken over, busy, finished, deferred, missing, or a second message for the same send) go
  // through claimSend one by one.
  let claimed = new Map<string, SendRow>();
  try {
    const ids = [...new Set(bodies.flatMap((body) => (body.ok ? [body.message.sendId] : [])))];
    claimed = await claimDueSends(env.DB, ids, options.clock(), settings.leaseMs);
  } catch (error) {
    logSendEvent("send.consumer_error", { queue: batch.queue, error: describe(error) });
  }
  return Promise.all(
    batch.messages.map(async (message, index): Promise<MessageDecision> => {
      let decision: MessageDecision;
      try {
        const body = bodies[index];
        const row = body?.ok ? claimed.get(body.message.sendId) : undefined;
        if (row) {
          claimed.delete(row.id);
          decision = await deliverClaimed(row, false, env, options, settings);
        } else {
          decision = await processSendMessage(message.body, env, options, settings);
        }
      } catch (error) {
        // D1 or the queue failed under us: let the queue redeliver with its own delay; after
        // max_retries the message goes to the dead-letter queue, whose consumer marks the send dead.
        logSendEvent("send.consumer_error", { messageId: message.id, error: describe(error) });
        message.retry();
        return { kind: "retry", delaySeconds: null };
      }
      if (decision.kind === "ack") message.ack();
      else message.retry(decision.delaySeconds === null ? {} : { delaySeconds: decision.delaySeconds });
      return decision;
    }),
  );
}

/** What to do with a queue message once it has been handled (`null` delay: the queue's default). */
export type MessageDecision = { kind: "ack" } | { kind: "retry"; delaySeconds: number | null };

const ACK: MessageDecision = { kind: "ack" };

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
      logSendEvent("send.missing", { sendId });
      return ACK;
    case "finished":
      return ACK;
    case "busy":
      return retryAt(claim.leaseExpiresAt, options.clock());
    case "early":
      return retryAt(claim.dueAt, options.clock());
    case "claimed":
      return deliverClaimed(claim.row, claim.resumed, env, options, settings);
  }
}

async function deliverClaimed(
  row: SendRow,
  resumed: boolean,
  env: Env,
  options: ConsumeOptions,
  settings: SendSettings,
): Promise<MessageDecision> {
  const channel = channelFor(row.channel, env);
  const dead = async (error: string): Promise<MessageDecision> => {
    if (await markDead(env.DB, row, options.clock(), error)) {
      logSendEvent("send.dead", { sendId: row.id, channel: row.channel, attempts: row.attempts, error });
    }
    return ACK;
  };

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

  let outcome: DeliveryOutcome;
  try {
    outcome = await channel.deliver(
      {
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
      },
      { now: options.clock(), timeoutMs: settings.deliveryTimeoutMs },
    );
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
      // The row is the record of a success; only a superseded claim is worth a log line.
      if (!(await markSent(env.DB, row, now, outcome.providerMessageId))) {
        logSendEvent("send.superseded", { sendId: row.id, attempts: row.attempts });
      }
      return ACK;
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
      if (!(await markFailed(env.DB, row, now, outcome.error, now + delaySeconds * 1000))) return ACK;
      logSendEvent("send.failed", {
        sendId: row.id,
        channel: row.channel,
        attempts: row.attempts,
        retryInSeconds: delaySeconds,
        error: outcome.error,
      });
      return { kind: "retry", delaySeconds };
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
 * deployment's COMPANY_NAME when the snapshot has none.
 */
function templateValues(variables: TemplateVariables, companyName: string): TemplateValues {
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
