// What an id may be, wherever the API takes one (an event's id and customer_id, a decision request's
// customer_id, a customer id in the URL path or in ?customer_id=): 1 to 128 characters, no control
// characters, no whitespace at either end. A bad one is a 400 `validation_failed` pointing at it,
// with one sentence saying what an id may be; a batch carrying one stores nothing.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ID_PROBLEM } from "../../worker/api/identifiers";
import { REQUEST_LIMITS } from "../../worker/limits";
import { call, event, ingest, issueKey } from "./helpers";

let admin: string;
beforeAll(async () => {
  admin = await issueKey(["admin"]);
});

/** Ids refused everywhere, by what is wrong with them; every one can be written in a URL. */
const BAD_IDS: readonly { note: string; id: string }[] = [
  { note: "a blank", id: " " },
  { note: "only whitespace", id: " \t " },
  { note: "a leading space", id: " cus_1" },
  { note: "a trailing space", id: "cus_1 " },
  { note: "a trailing no-break space", id: "cus_1\u00a0" },
  { note: "a leading ideographic space", id: "\u3000cus_1" },
  { note: "a tab inside", id: "cus\t1" },
  { note: "a newline inside", id: "cus\n1" },
  { note: "a NUL inside", id: "cus\u00001" },
  { note: "DEL inside", id: "cus\u007f1" },
  { note: "U+0085 (next line) inside", id: "cus\u00851" },
  { note: "one character too many", id: "c".repeat(REQUEST_LIMITS.maxIdLength + 1) },
  // Lengths count UTF-16 code units: an emoji is two.
  { note: "65 emoji (130 code units)", id: "🦊".repeat(REQUEST_LIMITS.maxIdLength / 2 + 1) },
];

/** Ids accepted everywhere. */
const GOOD_IDS: readonly { note: string; id: string }[] = [
  { note: "spaces inside", id: "Ada Lovelace 1815" },
  { note: "unicode letters", id: "Zoë-Ærø-用户-Ωμέγα" },
  { note: "emoji", id: "fox-🦊-2" },
  { note: "dots, dashes, colons, slashes", id: "acct.eu-1:cus_42/7" },
  { note: "a single character", id: "x" },
  { note: "the longest", id: "c".repeat(REQUEST_LIMITS.maxIdLength) },
  { note: "64 emoji (128 code units)", id: "🦊".repeat(REQUEST_LIMITS.maxIdLength / 2) },
];

const AT = "2026-03-01T10:00:00Z";

function refusedAt(
  result: { status: number; body: { error: { code: string; details: unknown } } },
  path: string,
) {
  expect(result.status).toBe(400);
  expect(result.body.error.code).toBe("validation_failed");
  expect(result.body.error.details).toEqual([{ path, message: ID_PROBLEM }]);
}

describe("the message", () => {
  it("says what an id may be, not which pattern it failed", () => {
    expect(ID_PROBLEM).toBe(
      `is not a valid id: 1 to ${REQUEST_LIMITS.maxIdLength} characters, no control characters, no whitespace at the start or end`,
    );
  });
});

describe("POST /v1/events", () => {
  it.each(BAD_IDS)("refuses a customer_id with $note at /customer_id", async ({ id }) => {
    refusedAt(await call("/v1/events", { key: admin, body: event("activity", id, AT) }), "/customer_id");
  });

  it.each(BAD_IDS)("refuses an event id with $note at /id", async ({ id }) => {
    refusedAt(
      await call("/v1/events", { key: admin, body: event("activity", "c-id-ok", AT, {}, id) }),
      "/id",
    );
  });

  it("refuses an empty customer_id and an empty event id the same way", async () => {
    refusedAt(await call("/v1/events", { key: admin, body: event("activity", "", AT) }), "/customer_id");
    refusedAt(
      await call("/v1/events", { key: admin, body: event("activity", "c-id-ok", AT, {}, "") }),
      "/id",
    );
  });

  it("refuses an unpaired surrogate, which no URL or UTF-8 log line can carry", async () => {
    refusedAt(
      await call("/v1/events", { key: admin, body: event("activity", "cus\ud800", AT) }),
      "/customer_id",
    );
  });

  it("keeps ajv's 'must be string' for an id that is not a string", async () => {
    const result = await call("/v1/events", {
      key: admin,
      body: event("activity", 42 as unknown as string, AT),
    });
    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([{ path: "/customer_id", message: "must be string" }]);
  });

  it("applies the rule to the ids events carry in their properties", async () => {
    const failed = event("payment.failed", "c-id-ok", AT, { invoice_id: " ", amount: 100, currency: "USD" });
    refusedAt(await call("/v1/events", { key: admin, body: failed }), "/properties/invoice_id");
    const paid = event("payment.succeeded", "c-id-ok", AT, {
      invoice_id: "in\n1",
      amount: 100,
      currency: "USD",
    });
    refusedAt(await call("/v1/events", { key: admin, body: paid }), "/properties/invoice_id");
    const referral = event("referral.made", "c-id-ok", AT, { referred_customer_id: "c\t2" });
    refusedAt(await call("/v1/events", { key: admin, body: referral }), "/properties/referred_customer_id");
  });

  it("refuses a whole batch for one bad id, pointing at its item, and stores nothing", async () => {
    const events = [0, 1, 2, 3, 4].map((index) =>
      event("activity", index === 3 ? "c-id-batch " : "c-id-batch", `2026-03-0${index + 1}T10:00:00Z`),
    );
    refusedAt(await call("/v1/events", { key: admin, body: { events } }), "/events/3/customer_id");
    for (const customerId of ["c-id-batch", "c-id-batch "]) {
      const stored = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE customer_id = ?1")
        .bind(customerId)
        .first<{ n: number }>();
      expect(stored?.n).toBe(0);
      const profiles = await env.DB.prepare("SELECT count(*) AS n FROM customers WHERE id = ?1")
        .bind(customerId)
        .first<{ n: number }>();
      expect(profiles?.n).toBe(0);
    }
  });

  it.each(GOOD_IDS)("accepts $note, as a customer id and an event id, stored as sent", async ({ id }) => {
    const body = await ingest(admin, [event("activity", id, AT, {}, id)]);
    expect(body.accepted).toBe(1);
    const stored = await env.DB.prepare("SELECT customer_id FROM events WHERE id = ?1")
      .bind(id)
      .first<{ customer_id: string }>();
    expect(stored?.customer_id).toBe(id);
  });
});

describe("customer ids in the URL path", () => {
  const routes = [
    { route: "GET /v1/customers/:id", url: (id: string) => `/v1/customers/${encodeURIComponent(id)}` },
    {
      route: "GET /v1/customers/:id/next-offer",
      url: (id: string) => `/v1/customers/${encodeURIComponent(id)}/next-offer?context=in_app`,
    },
    { route: "GET /v1/admin/floor/:id", url: (id: string) => `/v1/admin/floor/${encodeURIComponent(id)}` },
  ];

  for (const { route, url } of routes) {
    it.each(BAD_IDS)(`${route} refuses $note at path:id`, async ({ id }) => {
      refusedAt(await call(url(id), { key: admin }), "path:id");
    });
  }

  for (const { route, url } of routes) {
    it(`${route} refuses a segment whose percent-encoding is not UTF-8, instead of taking it literally`, async () => {
      for (const raw of ["%FF", "%ED%A0%80", "a%C3"]) {
        // url() would encode the percent sign; the raw segment is spliced in by hand.
        const path = url("PLACEHOLDER").replace("PLACEHOLDER", raw);
        const refused = await call(path, { key: admin });
        expect(refused.status).toBe(400);
        expect(refused.body.error.code).toBe("validation_failed");
        expect(refused.body.error.details).toEqual([
          { path: "path:id", message: `${ID_PROBLEM} (its percent-encoding is not UTF-8)` },
        ]);
      }
    });
  }

  it("keeps an id with a literal percent sign apart from an undecodable one", async () => {
    await ingest(admin, [event("activity", "%FF", AT)]);
    const literal = await call(`/v1/customers/${encodeURIComponent("%FF")}`, { key: admin });
    expect(literal.status).toBe(200);
    expect(literal.body.customer.id).toBe("%FF");
    expect((await call("/v1/customers/%FF", { key: admin })).status).toBe(400);
    expect((await call("/v1/customers/%FF/next-offer?context=in_app", { key: admin })).status).toBe(400);
    const after = await env.DB.prepare(
      "SELECT count(*) AS n FROM decisions WHERE customer_id = '%FF'",
    ).first<{
      n: number;
    }>();
    expect(after?.n).toBe(0);
  });

  it("stores no decision for a refused id", async () => {
    await call(`/v1/customers/${encodeURIComponent(" ")}/next-offer?context=in_app`, { key: admin });
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM decisions WHERE customer_id = ' '").first<{
      n: number;
    }>();
    expect(stored?.n).toBe(0);
  });

  it.each(GOOD_IDS)("reads the profile and decides for $note", async ({ id }) => {
    await ingest(admin, [event("activity", id, AT)]);
    const profile = await call(`/v1/customers/${encodeURIComponent(id)}`, { key: admin });
    expect(profile.status).toBe(200);
    expect(profile.body.customer.id).toBe(id);
    const decision = await call(`/v1/customers/${encodeURIComponent(id)}/next-offer?context=in_app`, {
      key: admin,
    });
    expect(decision.status).toBe(200);
    expect(decision.body.customer_id).toBe(id);
    const floor = await call(`/v1/admin/floor/${encodeURIComponent(id)}`, { key: admin });
    expect(floor.status).toBe(200);
    expect(floor.body.customer.id).toBe(id);
  });
});

describe("POST /v1/decisions", () => {
  it.each([
    ...BAD_IDS,
    { note: "nothing", id: "" },
    { note: "an unpaired surrogate", id: "\udc00cus" },
  ])("refuses a customer_id with $note at /customer_id", async ({ id }) => {
    const result = await call("/v1/decisions", { key: admin, body: { customer_id: id, context: "in_app" } });
    refusedAt(result, "/customer_id");
    expect(result.body.error.message).toBe("The request body is invalid (1 problem).");
  });

  it.each(GOOD_IDS)("decides for $note", async ({ id }) => {
    const result = await call("/v1/decisions", { key: admin, body: { customer_id: id, context: "in_app" } });
    expect(result.status).toBe(200);
    expect(result.body.customer_id).toBe(id);
  });
});

describe("?customer_id= on the admin listings", () => {
  it.each([
    "/v1/sends",
    "/v1/outbox",
    "/v1/admin/dunning-cases",
  ])("%s refuses a value whose percent-encoding is not UTF-8", async (route) => {
    const refused = await call(`${route}?customer_id=%FF`, { key: admin });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { path: "?customer_id", message: `${ID_PROBLEM} (its percent-encoding is not UTF-8)` },
    ]);
  });

  const listings = ["/v1/sends", "/v1/outbox", "/v1/admin/dunning-cases"];

  for (const listing of listings) {
    it.each([
      ...BAD_IDS,
      { note: "nothing (an empty filter is not 'every customer')", id: "" },
    ])(`${listing} refuses $note at ?customer_id`, async ({ id }) => {
      refusedAt(
        await call(`${listing}?customer_id=${encodeURIComponent(id)}`, { key: admin }),
        "?customer_id",
      );
    });

    it(`${listing} filters by an id with spaces, unicode letters and emoji`, async () => {
      const result = await call(`${listing}?customer_id=${encodeURIComponent("Zoë 🦊:1")}`, { key: admin });
      expect(result.status).toBe(200);
    });
  }
});
