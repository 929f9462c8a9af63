// Shared set-up for the tick tests: customers made through real ingest, ticks run at chosen
// moments, and the real queue consumer driven at a chosen time. Test time lies in 2031, after the
// wall clock, so the rebound-sends consumer miniflare runs in the background (on the wall clock)
// finds every send not yet due and steps aside: only the consumer a test drives delivers.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { consumeSends } from "../../worker/sends/consume";
import type { SendRow } from "../../worker/sends/types";
import { runTick } from "../../worker/tick/run-tick";
import { event, ingest, issueKey } from "./helpers";

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

/** Epoch ms of an ISO time. */
export const at = (iso: string): number => Date.parse(iso);
export const isoOf = (ms: number): string => new Date(ms).toISOString();

let writeKey: string | null = null;

/** Ingests events (type, customer, time, properties) through POST /v1/events. */
export async function events(
  ...items: [type: string, customerId: string, occurredAt: number, properties?: Record<string, unknown>][]
): Promise<void> {
  writeKey ??= await issueKey(["events:write"]);
  await ingest(
    writeKey,
    items.map(([type, customerId, occurredAt, properties]) =>
      event(type, customerId, isoOf(occurredAt), properties),
    ),
  );
}

/** A subscribed customer with an email, plan and MRR, signed up at `since`. */
export async function subscriber(
  customerId: string,
  since: number,
  profile: { mrr?: number; plan?: string; timezone?: string; firstName?: string } = {},
): Promise<void> {
  await events(
    [
      "customer.updated",
      customerId,
      since,
      {
        email: `${customerId}@example.com`,
        first_name: profile.firstName ?? "Ada",
        ...(profile.timezone ? { timezone: profile.timezone } : {}),
      },
    ],
    [
      "subscription.started",
      customerId,
      since,
      { plan: profile.plan ?? "pro", mrr: profile.mrr ?? 4900, currency: "USD" },
    ],
  );
}

/** Runs the tick at `now` with the deployed rules. */
export function tick(now: number) {
  return runTick(env, now, { ruleset: deployedRuleset() });
}

/** Every send of a customer, oldest first. */
export async function sendsOf(customerId: string): Promise<SendRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM sends WHERE customer_id = ? ORDER BY id")
    .bind(customerId)
    .all<SendRow>();
  return results;
}

/** `kind/key/step` of each send, oldest first. */
export async function stepsOf(customerId: string): Promise<string[]> {
  return (await sendsOf(customerId)).map(
    (send) => `${send.programme_kind}/${send.programme_key}/${send.step}`,
  );
}

/** Runs the real rebound-sends consumer (deployed rules) on `sendIds` at `now`. */
export async function deliver(sendIds: readonly string[], now: number) {
  const batch = createMessageBatch(
    "rebound-sends",
    sendIds.map((id, index) => ({
      id: `m_${id}_${index}`,
      timestamp: new Date(now),
      attempts: 1,
      body: { v: 1, sendId: id },
    })),
  );
  const ctx = createExecutionContext();
  const decisions = await consumeSends(batch, env, { clock: () => now, ruleset: deployedRuleset() });
  return { ...(await getQueueResult(batch, ctx)), decisions };
}

/** The outbox message of a send. */
export async function outboxOf(sendId: string) {
  return env.DB.prepare("SELECT * FROM outbox WHERE id = ?")
    .bind(sendId)
    .first<{ subject: string; text: string; customer_id: string }>();
}

/** Empties what a tick reads and writes, so each test starts from a clean schedule. */
export async function resetTick(): Promise<void> {
  await env.DB.batch(
    [
      "campaign_runs",
      "campaign_exclusions",
      "tick_state",
      "dunning_cases",
      "sends",
      "outbox",
      "decisions",
      "events",
      "customers",
    ].map((table) => env.DB.prepare(`DELETE FROM ${table}`)),
  );
}
