// Billing-provider webhooks take no API key: each is authenticated with the provider's own
// signature (Stripe, Paddle) or Basic credentials (Chargebee) over the raw body, and anything
// missing, forged, stale or unconfigured is refused with nothing stored.
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  basic,
  deliver,
  fixtures,
  hmacHex,
  nowSeconds,
  paddleHeader,
  SECRETS,
  stripeHeader,
} from "./provider-webhooks-fixtures";

const stripeBody = JSON.stringify(fixtures.stripeSubscriptionDeleted);
const stored = async () =>
  (await env.DB.prepare(
    "SELECT count(*) AS n FROM events WHERE id LIKE 'stripe_%' OR id LIKE 'paddle_%' OR id LIKE 'chargebee_%'",
  ).first<{ n: number }>())!.n;

describe("Stripe signatures", () => {
  it("signs like the stripe package does", async () => {
    const stripe = new Stripe("sk_test_unused");
    const timestamp = 1_767_225_600;
    // Inside workerd the package signs with SubtleCrypto, so only its async form runs here.
    const theirs = await stripe.webhooks.generateTestHeaderStringAsync({
      payload: stripeBody,
      secret: "whsec_test_current",
      timestamp,
    });
    expect(theirs).toBe(await stripeHeader(stripeBody, "whsec_test_current", timestamp));
  });

  it("refuses a missing, forged, stale or wrongly keyed signature with 401 and stores nothing", async () => {
    const before = await stored();
    const cases: [Record<string, string>, string][] = [
      [{}, "webhook_signature_missing"],
      [{ "stripe-signature": "t=abc,v1=00" }, "webhook_signature_missing"],
      [{ "stripe-signature": `t=${nowSeconds()},v1=${"0".repeat(64)}` }, "webhook_signature_invalid"],
      [
        { "stripe-signature": await stripeHeader(stripeBody, "whsec_someone_else") },
        "webhook_signature_invalid",
      ],
      [{ "stripe-signature": await stripeHeader(`${stripeBody} `) }, "webhook_signature_invalid"],
      [
        { "stripe-signature": await stripeHeader(stripeBody, "whsec_test_current", nowSeconds() - 301) },
        "webhook_timestamp_out_of_tolerance",
      ],
    ];
    for (const [headers, code] of cases) {
      const result = await deliver("stripe", stripeBody, headers);
      expect({ headers, status: result.status, code: result.body.error?.code }).toEqual({
        headers,
        status: 401,
        code,
      });
      expect(result.headers.get("www-authenticate")).toContain("Stripe-Signature");
    }
    expect(await stored()).toBe(before);
  });

  it("accepts any configured secret (rolling) and any of several v1 signatures", async () => {
    const old = await deliver("stripe", stripeBody, {
      "stripe-signature": await stripeHeader(stripeBody, "whsec_test_old"),
    });
    expect(old.status).toBe(200);
    const t = nowSeconds();
    const two = `t=${t},v1=${"1".repeat(64)},v1=${await hmacHex("whsec_test_current", `${t}.${stripeBody}`)}`;
    const both = await deliver("stripe", stripeBody, { "stripe-signature": two });
    expect(both.status).toBe(200);
    expect(both.body.outcome).toBe("duplicate");
  });

  it("answers 400 for a validly signed body that is not JSON, and stores nothing", async () => {
    const before = await stored();
    const body = '{"id": "evt_broken", ';
    const result = await deliver("stripe", body, { "stripe-signature": await stripeHeader(body) });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("invalid_json");
    const notEvent = JSON.stringify({ hello: "world" });
    const shape = await deliver("stripe", notEvent, { "stripe-signature": await stripeHeader(notEvent) });
    expect(shape.status).toBe(400);
    expect(shape.body.error.code).toBe("validation_failed");
    expect(await stored()).toBe(before);
  });

  it("answers 503 webhook_not_configured when the provider's secret is not set", async () => {
    for (const provider of ["stripe", "paddle", "chargebee"] as const) {
      const result = await deliver(
        provider,
        stripeBody,
        { "stripe-signature": await stripeHeader(stripeBody) },
        {},
      );
      expect({ provider, status: result.status, code: result.body.error.code }).toEqual({
        provider,
        status: 503,
        code: "webhook_not_configured",
      });
    }
  });
});

describe("Paddle signatures", () => {
  const body = JSON.stringify(fixtures.paddleSubscriptionCreated);

  it("accepts a valid signature and refuses a forged or stale one", async () => {
    expect((await deliver("paddle", body, { "paddle-signature": await paddleHeader(body) })).status).toBe(
      200,
    );
    const forged = await deliver("paddle", body, {
      "paddle-signature": await paddleHeader(body, "pdl_wrong"),
    });
    expect([forged.status, forged.body.error.code]).toEqual([401, "webhook_signature_invalid"]);
    const stale = await deliver("paddle", body, {
      "paddle-signature": await paddleHeader(body, "pdl_ntfset_test", nowSeconds() - 600),
    });
    expect([stale.status, stale.body.error.code]).toEqual([401, "webhook_timestamp_out_of_tolerance"]);
    const missing = await deliver("paddle", body, {});
    expect([missing.status, missing.body.error.code]).toEqual([401, "webhook_signature_missing"]);
  });
});

describe("Chargebee Basic credentials", () => {
  const body = JSON.stringify(fixtures.chargebeeCancelled);

  it("accepts either configured password and refuses missing or wrong credentials with a Basic challenge", async () => {
    expect((await deliver("chargebee", body, { authorization: basic("rebound", "cb-pass-1") })).status).toBe(
      200,
    );
    expect((await deliver("chargebee", body, { authorization: basic("rebound", "cb-pass-2") })).status).toBe(
      200,
    );
    for (const [authorization, code] of [
      [undefined, "webhook_signature_missing"],
      [basic("rebound", "cb-pass-3"), "webhook_signature_invalid"],
      [basic("intruder", "cb-pass-1"), "webhook_signature_invalid"],
      ["Bearer rbk_x", "webhook_signature_missing"],
    ] as const) {
      const result = await deliver("chargebee", body, authorization ? { authorization } : {});
      expect([result.status, result.body.error.code]).toEqual([401, code]);
      expect(result.headers.get("www-authenticate")).toContain("Basic");
    }
    expect(SECRETS.CHARGEBEE_WEBHOOK_USERNAME).toBe("rebound");
  });
});
