// Test helpers for billing-provider webhooks: signed deliveries for "now" (the wall clock the
// route checks against), and the three fixtures' payloads.
import { env } from "cloudflare:workers";
import { app } from "../../worker/api/app";
import type { Env } from "../../worker/env";
import chargebeeCancelled from "../fixtures/providers/chargebee-subscription_cancelled.json";
import paddleSubscriptionCreated from "../fixtures/providers/paddle-subscription.created.json";
import paddlePaymentFailed from "../fixtures/providers/paddle-transaction.payment_failed.json";
import stripeSubscriptionDeleted from "../fixtures/providers/stripe-customer.subscription.deleted.json";
import stripeInvoiceFailed from "../fixtures/providers/stripe-invoice.payment_failed.json";

export const fixtures = {
  stripeSubscriptionDeleted,
  stripeInvoiceFailed,
  paddleSubscriptionCreated,
  paddlePaymentFailed,
  chargebeeCancelled,
};

export const SECRETS = {
  STRIPE_WEBHOOK_SECRET: "whsec_test_old,whsec_test_current",
  PADDLE_WEBHOOK_SECRET: "pdl_ntfset_test",
  CHARGEBEE_WEBHOOK_USERNAME: "rebound",
  CHARGEBEE_WEBHOOK_PASSWORD: "cb-pass-1,cb-pass-2",
} as const;

/** A deep copy of a fixture, to change for one test. */
export function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Hex HMAC-SHA256 of `message` keyed with `secret` (UTF-8). */
export async function hmacHex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return [...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `Stripe-Signature` for `body` signed at `atSeconds` (default: now) with `secret`. */
export async function stripeHeader(body: string, secret = "whsec_test_current", atSeconds = nowSeconds()) {
  return `t=${atSeconds},v1=${await hmacHex(secret, `${atSeconds}.${body}`)}`;
}

/** `Paddle-Signature` for `body` signed at `atSeconds` (default: now). */
export async function paddleHeader(body: string, secret = "pdl_ntfset_test", atSeconds = nowSeconds()) {
  return `ts=${atSeconds};h1=${await hmacHex(secret, `${atSeconds}:${body}`)}`;
}

export function basic(username: string, password: string): string {
  return `Basic ${btoa(`${username}:${password}`)}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** POSTs a webhook to the app with the test secrets configured (or `bindings` instead). */
export async function deliver(
  provider: "stripe" | "paddle" | "chargebee",
  body: string,
  headers: Record<string, string>,
  bindings: Partial<Env> = SECRETS,
) {
  const response = await app.fetch(
    new Request(`http://rebound.test/v1/webhooks/${provider}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    }),
    { ...env, ...bindings },
  );
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

/** Delivers a Stripe event signed for now. */
export async function deliverStripe(event: unknown) {
  const body = JSON.stringify(event);
  return deliver("stripe", body, { "stripe-signature": await stripeHeader(body) });
}

export async function deliverPaddle(event: unknown) {
  const body = JSON.stringify(event);
  return deliver("paddle", body, { "paddle-signature": await paddleHeader(body) });
}

export async function deliverChargebee(event: unknown) {
  return deliver("chargebee", JSON.stringify(event), { authorization: basic("rebound", "cb-pass-2") });
}

/** A Stripe Event around `object`. */
export function stripeEvent(
  id: string,
  type: string,
  created: number,
  object: Record<string, unknown>,
  previousAttributes?: Record<string, unknown>,
) {
  return {
    id,
    object: "event",
    api_version: "2025-03-31.basil",
    created,
    livemode: false,
    type,
    data: { object, ...(previousAttributes ? { previous_attributes: previousAttributes } : {}) },
  };
}

/** A Stripe Subscription with one item per `{price, quantity}`. */
export function stripeSubscription(
  customer: string,
  items: {
    price: string;
    amount: number;
    interval?: string;
    count?: number;
    quantity?: number;
    lookupKey?: string;
  }[],
  extra: Record<string, unknown> = {},
) {
  return {
    id: `sub_${customer}`,
    object: "subscription",
    customer,
    currency: "usd",
    status: "active",
    cancel_at_period_end: false,
    metadata: {},
    items: {
      object: "list",
      data: items.map((item, index) => ({
        id: `si_${index}`,
        object: "subscription_item",
        quantity: item.quantity ?? 1,
        price: {
          id: item.price,
          object: "price",
          currency: "usd",
          lookup_key: item.lookupKey ?? null,
          product: `prod_${index}`,
          recurring: {
            interval: item.interval ?? "month",
            interval_count: item.count ?? 1,
            usage_type: "licensed",
          },
          unit_amount: item.amount,
        },
      })),
    },
    ...extra,
  };
}
