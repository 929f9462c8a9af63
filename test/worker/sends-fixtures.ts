// Shared set-up for the send pipeline tests: the rules whose messages they render, send requests, an
// environment pointed at the loopback receiver, and a way to run the real consumer on a batch at a
// chosen time.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { checkRuleset } from "../../dsl/rules/check";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import type { Env } from "../../worker/env";
import { consumeSends } from "../../worker/sends/consume";
import { consumeDeadLetters } from "../../worker/sends/dead-letter";
import type { SendRequest, SendRow } from "../../worker/sends/types";
import { receiverUrl } from "./receiver";

/** Checks rule sources and compiles them, as `rebound build` and the Worker's start do. */
export function rulesFrom(text: string) {
  const check = checkRuleset([{ path: "rules/sends.yaml", text }]);
  if (!check.ruleset) throw new Error(`rules do not check: ${JSON.stringify(check.diagnostics)}`);
  return loadRuleset(JSON.parse(JSON.stringify(check.ruleset)) as RulesetIR);
}

/** The rules the send tests render with: a dunning message, and one without a subject. */
export const RULES = rulesFrom(`
messages:
  dunning_day_0:
    subject: Your payment did not go through
    body: 'Hi {{ first_name | default: "there" }}, we could not charge your card ending in {{ card_last4 }}. Update it here: {{ update_url }}'
  no_subject:
    body: "Thanks for sticking with {{ company_name }}."
`);

export const WEBHOOK_SECRET = "whsec_test_3f9a1c";
/**
 * The tests' "now". It lies years after the wall clock on purpose: enqueueSends also publishes to
 * the real rebound-sends queue, whose consumer in miniflare runs on the wall clock, finds these
 * sends not yet due and steps aside, so only the consumer a test drives delivers.
 */
export const T0 = Date.parse("2031-03-03T09:00:00Z");

let customerCounter = 0;

/** A dunning day-0 send for a fresh customer; override any field. */
export function sendRequest(overrides: Partial<SendRequest> = {}): SendRequest {
  customerCounter += 1;
  return {
    programmeKind: "dunning",
    programmeKey: "default",
    occurrence: "inv_1001",
    step: "day-0",
    customerId: `cus_${customerCounter}`,
    messageKey: "dunning_day_0",
    recipient: `ada${customerCounter}@example.com`,
    variables: { first_name: "Ada", card_last4: "4242", update_url: "https://billing.example.com/update" },
    ...overrides,
  };
}

/** The test environment with the given overrides (channels pointed at the loopback receiver). */
export function envWith(overrides: Partial<Env>): Env {
  return { ...env, ...overrides };
}

/** An environment whose default channel is the webhook at `path` on the loopback receiver. */
export function webhookEnv(path: string, overrides: Partial<Env> = {}): Env {
  return envWith({
    DEFAULT_CHANNEL: "webhook",
    WEBHOOK_URL: `${receiverUrl()}${path}`,
    WEBHOOK_SECRET,
    DELIVERY_TIMEOUT_MS: "2000",
    ...overrides,
  });
}

let messageCounter = 0;

/** A queue message carrying `sendId`, as the queue would deliver it (attempts counts deliveries). */
export function queueMessage(sendId: string, attempts = 1) {
  messageCounter += 1;
  return { id: `msg_${messageCounter}`, timestamp: new Date(T0), attempts, body: { v: 1, sendId } };
}

/** Runs the real rebound-sends consumer on one batch at time `now` and returns the queue's verdict. */
export async function consume(testEnv: Env, sendIds: readonly string[], now: number, attempts = 1) {
  const batch = createMessageBatch(
    "rebound-sends",
    sendIds.map((id) => queueMessage(id, attempts)),
  );
  const ctx = createExecutionContext();
  const decisions = await consumeSends(batch, testEnv, { clock: () => now, ruleset: RULES });
  // The queue's record says which messages were acked or retried; the decisions add each retry's
  // delay, which the test queue does not record.
  return { ...(await getQueueResult(batch, ctx)), decisions };
}

/** The delay of the retry decided for message `index` of a consumed batch (throws if it was acked). */
export function retryDelay(result: Awaited<ReturnType<typeof consume>>, index = 0): number {
  const decision = result.decisions[index];
  if (decision?.kind !== "retry" || decision.delaySeconds === null)
    throw new Error("expected a delayed retry");
  return decision.delaySeconds;
}

/** Runs the real dead-letter consumer on one batch at time `now`. */
export async function consumeDlq(testEnv: Env, sendIds: readonly string[], now: number) {
  const batch = createMessageBatch(
    "rebound-sends-dlq",
    sendIds.map((id) => queueMessage(id, 6)),
  );
  const ctx = createExecutionContext();
  const delays = await consumeDeadLetters(batch, testEnv, () => now);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

/** Reads a sends row. */
export async function sendRow(sendId: string): Promise<SendRow> {
  const row = await env.DB.prepare("SELECT * FROM sends WHERE id = ?").bind(sendId).first<SendRow>();
  if (!row) throw new Error(`no send ${sendId}`);
  return row;
}

/**
 * Verifies a Rebound-Signature header the way a receiver following docs/webhooks.md would:
 * independent of worker/channels/webhook-signature.ts (it verifies with Web Crypto's `verify`
 * against the parsed hex instead of recomputing and comparing strings).
 */
export async function verifyWebhookSignature(
  secret: string,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  const parts = new Map(header.split(",").map((part) => part.split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const v1 = parts.get("v1") ?? "";
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  if (!/^[0-9a-f]{64}$/.test(v1)) return false;
  const mac = new Uint8Array(v1.match(/../g)!.map((byte) => Number.parseInt(byte, 16)));
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  return crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(`${t}.${body}`));
}
