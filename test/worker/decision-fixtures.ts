// Decision test fixtures: customers with the profiles the shipped rules (rules/*.yaml) care about,
// ingested through the real API, and a decision call that moves the clock with X-Rebound-Now.
import { env } from "cloudflare:workers";
import { beforeAll } from "vitest";
import { inHoldout } from "../../dsl/runtime/bucket";
import { call, event, ingest, issueKey } from "./helpers";

export const DAY = 86_400_000;

/** The keys decision tests use: one to ingest, an admin (moves the clock), a plain decisions reader. */
export interface DecisionKeys {
  writer: string;
  admin: string;
  reader: string;
}

/**
 * Issues the decision keys once for the calling test file (in its `beforeAll`); read them in tests.
 *
 * @example const keys = useDecisionKeys(); it("…", () => decide("c1", "in_app", { key: admin }));
 */
export function useDecisionKeys(): Readonly<DecisionKeys> {
  const keys: DecisionKeys = { writer: "", admin: "", reader: "" };
  beforeAll(async () => {
    keys.writer = await issueKey(["events:write"]);
    keys.admin = await issueKey(["admin"]);
    keys.reader = await issueKey(["decisions:read"]);
  });
  return keys;
}

/** How many decisions are stored for a customer (`offersOnly`: only those that carried an offer). */
export async function storedDecisions(
  customerId: string,
  options: { offersOnly?: boolean } = {},
): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT count(*) AS n FROM decisions WHERE customer_id = ?1${options.offersOnly ? " AND offer_key IS NOT NULL" : ""}`,
  )
    .bind(customerId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The clock of most scenarios: decisions are asked for relative to this instant. */
export const T0 = Date.parse("2026-03-03T15:00:00Z");

/** `T0 + days`, as the ISO string X-Rebound-Now takes. */
export function at(days: number): string {
  return new Date(T0 + days * DAY).toISOString();
}

/** The price test of rules/offers.yaml (offer price_high_value). */
export const PRICE_EXPERIMENT = "offer_price_high_value";

/** `count` customer ids with `prefix` that are NOT in the price test's 10% holdout. */
export function offeredIds(prefix: string, count: number): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n++) {
    const id = `${prefix}-${n}`;
    if (!inHoldout(PRICE_EXPERIMENT, id, 10)) ids.push(id);
  }
  return ids;
}

/** A customer id with `prefix` that IS in the price test's holdout. */
export function heldOutId(prefix: string): string {
  for (let n = 0; ; n++) {
    const id = `${prefix}-${n}`;
    if (inHoldout(PRICE_EXPERIMENT, id, 10)) return id;
  }
}

/**
 * A paying customer on `plan` since 2025-06-01: `ltv` minor units paid (high_value from 50,000),
 * `mrr` per month, in `currency` (default USD).
 */
export async function payingCustomer(
  writer: string,
  id: string,
  options: {
    ltv?: number;
    mrr?: number;
    plan?: string;
    attributes?: Record<string, unknown>;
    currency?: string;
  } = {},
): Promise<void> {
  const mrr = options.mrr ?? 4900;
  const currency = options.currency ?? "USD";
  const events = [
    event("subscription.started", id, "2025-06-01T00:00:00Z", {
      plan: options.plan ?? "pro",
      mrr,
      currency,
    }),
    event("payment.succeeded", id, "2026-02-01T00:00:00Z", {
      invoice_id: `in_${id}`,
      amount: options.ltv ?? 80_000,
      currency,
    }),
  ];
  if (options.attributes) {
    events.push(event("customer.updated", id, "2025-06-01T00:00:01Z", { attributes: options.attributes }));
  }
  await ingest(writer, events);
}

/** Cancels a subscription at `when` (ISO) for `reason`. */
export async function cancel(writer: string, id: string, when: string, reason: string): Promise<void> {
  await ingest(writer, [event("subscription.canceled", id, when, { reason })]);
}

export interface DecideOptions {
  key: string;
  /** X-Rebound-Now (admin keys only); default T0. Pass null to send no header. */
  now?: string | null;
  reason?: string;
  attributes?: Record<string, unknown>;
  explain?: boolean;
}

/** POST /v1/decisions. */
export async function decide(customerId: string, context: string, options: DecideOptions) {
  const headers: Record<string, string> = {};
  const now = options.now === undefined ? at(0) : options.now;
  if (now !== null) headers["x-rebound-now"] = now;
  const body: Record<string, unknown> = { customer_id: customerId, context };
  if (options.reason !== undefined) body.reason = options.reason;
  if (options.attributes !== undefined) body.attributes = options.attributes;
  return await call(`/v1/decisions${options.explain ? "?explain=1" : ""}`, {
    key: options.key,
    body,
    headers,
  });
}

/** POST /v1/offers/:id/accept|decline at `now` (ISO; default T0). */
export async function respond(decisionId: string, answer: "accept" | "decline", key: string, now = at(0)) {
  return await call(`/v1/offers/${decisionId}/${answer}`, {
    key,
    method: "POST",
    headers: { "x-rebound-now": now },
  });
}
