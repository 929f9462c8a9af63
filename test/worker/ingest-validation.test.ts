// Bad input to POST /v1/events: each case gets a 400 with a code and the path of the problem, and
// nothing of the request is written.
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ruleset } from "../../worker/generated/ruleset";
import { REQUEST_LIMITS } from "../../worker/limits";
import { call, event, issueKey } from "./helpers";

let writer: string;
beforeAll(async () => {
  writer = await issueKey(["events:write"]);
});

const valid = () => event("activity", "c-valid", "2026-03-01T10:00:00Z");

interface Case {
  note: string;
  body: unknown;
  code: string;
  paths: string[];
}

const cases: Case[] = [
  {
    note: "unknown event type",
    body: { ...valid(), type: "order.refunded" },
    code: "validation_failed",
    paths: ["/type"],
  },
  {
    note: "wrong property type",
    body: event("order.completed", "c", "2026-03-01T10:00:00Z", { amount: "12.00", currency: "USD" }),
    code: "validation_failed",
    paths: ["/properties/amount"],
  },
  {
    note: "money given as a fraction",
    body: event("order.completed", "c", "2026-03-01T10:00:00Z", { amount: 12.5, currency: "USD" }),
    code: "validation_failed",
    paths: ["/properties/amount"],
  },
  {
    note: "lower-case currency",
    body: event("order.completed", "c", "2026-03-01T10:00:00Z", { amount: 1200, currency: "usd" }),
    code: "validation_failed",
    paths: ["/properties/currency"],
  },
  {
    note: "missing required property",
    body: event("payment.failed", "c", "2026-03-01T10:00:00Z", { amount: 1200, currency: "USD" }),
    code: "validation_failed",
    paths: ["/properties/invoice_id"],
  },
  {
    note: "missing properties object where properties are required",
    body: { id: "e1", type: "nps.submitted", customer_id: "c", occurred_at: "2026-03-01T10:00:00Z" },
    code: "validation_failed",
    paths: ["/properties"],
  },
  {
    note: "unknown property on a built-in type",
    body: event("activity", "c", "2026-03-01T10:00:00Z", { featur: "x" }),
    code: "validation_failed",
    paths: ["/properties/featur"],
  },
  {
    note: "NPS score out of range",
    body: event("nps.submitted", "c", "2026-03-01T10:00:00Z", { score: 11 }),
    code: "validation_failed",
    paths: ["/properties/score"],
  },
  {
    note: "a wrong property type and a bad date in one event: both reported",
    body: event("order.completed", "c", "yesterday", { amount: "12.00", currency: "USD" }),
    code: "validation_failed",
    paths: ["/properties/amount", "/occurred_at"],
  },
  {
    note: "missing id",
    body: { type: "activity", customer_id: "c", occurred_at: "2026-03-01T10:00:00Z" },
    code: "validation_failed",
    paths: ["/id"],
  },
  {
    note: "empty customer id",
    body: { ...valid(), customer_id: "" },
    code: "validation_failed",
    paths: ["/customer_id"],
  },
  {
    note: "a date that does not parse",
    body: { ...valid(), occurred_at: "yesterday" },
    code: "validation_failed",
    paths: ["/occurred_at"],
  },
  {
    note: "a date that does not exist",
    body: { ...valid(), occurred_at: "2026-02-30T10:00:00Z" },
    code: "validation_failed",
    paths: ["/occurred_at"],
  },
  {
    note: "a date-time without a UTC offset",
    body: { ...valid(), occurred_at: "2026-03-01T10:00:00" },
    code: "validation_failed",
    paths: ["/occurred_at"],
  },
  {
    note: "card expiry that is not a date",
    body: event("card.expiring", "c", "2026-03-01T10:00:00Z", { expires_at: "04/27" }),
    code: "validation_failed",
    paths: ["/properties/expires_at"],
  },
  {
    note: "unknown time zone",
    body: event("customer.updated", "c", "2026-03-01T10:00:00Z", { timezone: "Mars/Olympus" }),
    code: "validation_failed",
    paths: ["/properties/timezone"],
  },
  {
    note: "a cancellation reason the rules do not declare",
    body: event("subscription.canceled", "c", "2026-03-01T10:00:00Z", { reason: "too_pricey" }),
    code: "validation_failed",
    paths: ["/properties/reason"],
  },
  {
    note: "mrr without a currency",
    body: event("customer.updated", "c", "2026-03-01T10:00:00Z", { mrr: 1000 }),
    code: "validation_failed",
    paths: ["/properties/currency"],
  },
  {
    note: "an attribute holding an object",
    body: event("customer.updated", "c", "2026-03-01T10:00:00Z", { attributes: { team: { size: 4 } } }),
    code: "validation_failed",
    paths: ["/properties/attributes/team"],
  },
  {
    note: "a body that is not an object",
    body: [valid()],
    code: "validation_failed",
    paths: [""],
  },
  {
    note: "events that is not a list",
    body: { events: "many" },
    code: "validation_failed",
    paths: ["/events"],
  },
  {
    note: "an unknown key beside events",
    body: { events: [valid()], dryRun: true },
    code: "validation_failed",
    paths: ["/dryRun"],
  },
  {
    note: "an empty batch",
    body: { events: [] },
    code: "validation_failed",
    paths: ["/events"],
  },
  {
    note: "more than 500 events",
    body: { events: Array.from({ length: REQUEST_LIMITS.maxEventsPerBatch + 1 }, valid) },
    code: "too_many_events",
    paths: ["/events"],
  },
  {
    note: "one id used for two different events in one batch",
    body: {
      events: [
        event("activity", "c", "2026-03-01T10:00:00Z", {}, "same"),
        event("activity", "c", "2026-03-02T10:00:00Z", {}, "same"),
      ],
    },
    code: "validation_failed",
    paths: ["/events/1/id"],
  },
];

describe("bad input", () => {
  it.each(cases)("$note → 400 $code at $paths", async ({ body, code, paths }) => {
    const result = await call("/v1/events", { key: writer, body });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe(code);
    expect(typeof result.body.error.message).toBe("string");
    expect(result.body.error.details.map((d: { path: string }) => d.path)).toEqual(paths);
  });

  it("reports every bad item of a batch, with its index, and writes none of the good ones", async () => {
    const result = await call("/v1/events", {
      key: writer,
      body: {
        events: [
          event("activity", "c-atomic", "2026-03-01T10:00:00Z"),
          event("order.completed", "c-atomic", "not a date", { amount: 100, currency: "USD" }),
          event("activity", "c-atomic", "2026-03-01T11:00:00Z"),
          event("nps.submitted", "c-atomic", "2026-03-01T12:00:00Z", { score: "ten" }),
        ],
      },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      "/events/1/occurred_at",
      "/events/3/properties/score",
    ]);
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE customer_id = 'c-atomic'",
    ).first();
    expect(stored?.n).toBe(0);
    const profiles = await env.DB.prepare(
      "SELECT count(*) AS n FROM customers WHERE id = 'c-atomic'",
    ).first();
    expect(profiles?.n).toBe(0);
  });

  it("names the allowed reasons when a cancellation carries another, and writes nothing", async () => {
    const result = await call("/v1/events", {
      key: writer,
      body: {
        events: [
          event("activity", "c-reason", "2026-03-01T10:00:00Z"),
          event("subscription.canceled", "c-reason", "2026-03-02T10:00:00Z", { reason: "payment_failed" }),
        ],
      },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("validation_failed");
    const [detail, ...rest] = result.body.error.details;
    expect(rest).toEqual([]);
    expect(detail.path).toBe("/events/1/properties/reason");
    const allowed = ruleset.reasons.map((reason) => reason.key);
    expect(allowed).toContain("too_expensive");
    expect(detail.message).toContain(`use one of: ${allowed.join(", ")}`);
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE customer_id = 'c-reason'",
    ).first();
    expect(stored?.n).toBe(0);
  });

  it("accepts every cancellation reason the deployed rules declare", async () => {
    const reasons = ruleset.reasons.map((reason) => reason.key);
    const result = await call("/v1/events", {
      key: writer,
      body: {
        events: reasons.map((reason, index) =>
          event("subscription.canceled", `c-reason-${index}`, "2026-03-01T10:00:00Z", { reason }),
        ),
      },
    });
    expect(result.status).toBe(200);
    expect(result.body.accepted).toBe(reasons.length);
    const churned = await env.DB.prepare(
      "SELECT churn_reason FROM customers WHERE id LIKE 'c-reason-%' ORDER BY churn_reason",
    ).all<{ churn_reason: string }>();
    expect(churned.results.map((row) => row.churn_reason)).toEqual([...reasons].sort());
  });

  it("refuses a body over the size limit", async () => {
    const padding = "x".repeat(REQUEST_LIMITS.maxBodyBytes);
    const result = await call("/v1/events", {
      key: writer,
      body: event("x.big", "c-big", "2026-03-01T10:00:00Z", { padding }),
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("body_too_large");
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE customer_id = 'c-big'",
    ).first();
    expect(stored?.n).toBe(0);
  });

  it("refuses an endless body sent without a Content-Length, and stops reading it", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    // Never ends: the Worker reads on only so far past the limit (to keep the connection usable).
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await exports.default.fetch("http://rebound.test/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${writer}`, "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("body_too_large");
    // A few chunks of slack: the stream runs ahead of the reader by its queue.
    expect(sent).toBeLessThanOrEqual(
      REQUEST_LIMITS.maxBodyBytes + REQUEST_LIMITS.maxDiscardBytes + 4 * chunk.byteLength,
    );
  });

  it("refuses a body that is not JSON", async () => {
    const result = await call("/v1/events", { key: writer, rawBody: '{"id": "e1",' });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("invalid_json");
  });

  it("refuses a body not declared as JSON", async () => {
    const result = await call("/v1/events", {
      key: writer,
      rawBody: JSON.stringify(valid()),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(result.status).toBe(415);
    expect(result.body.error.code).toBe("unsupported_media_type");
  });
});
