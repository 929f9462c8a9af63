// How the decision routes treat a request before deciding anything: HEAD on GET next-offer (which
// would store a decision) is refused, query parameters and headers are checked as strictly as POST
// bodies, and every refusal says what is wrong where.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  at,
  cancel,
  offeredIds,
  payingCustomer,
  storedDecisions,
  useDecisionKeys,
} from "./decision-fixtures";
import { call } from "./helpers";

const keys = useDecisionKeys();

async function head(path: string, key?: string, headers: Record<string, string> = {}): Promise<Response> {
  return await exports.default.fetch(`http://rebound.test${path}`, {
    method: "HEAD",
    headers: key ? { ...headers, authorization: `Bearer ${key}` } : headers,
  });
}

describe("HEAD on GET next-offer", () => {
  it("is 405 with Allow: GET and stores no decision, so a prefetch starts no cooldown", async () => {
    const id = offeredIds("head", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    await cancel(keys.writer, id, "2026-03-01T09:00:00Z", "too_expensive");
    const path = `/v1/customers/${id}/next-offer?context=winback`;

    for (const key of [keys.reader, keys.admin]) {
      const refused = await head(path, key, { "x-rebound-now": at(0) });
      expect(refused.status).toBe(405);
      expect(refused.headers.get("allow")).toBe("GET");
    }
    expect(await storedDecisions(id)).toBe(0);

    const asked = await call(path, { key: keys.admin, headers: { "x-rebound-now": at(0) } });
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({ reason_code: "offered", reused: false });
    expect(await storedDecisions(id)).toBe(1);
  });

  it("checks the key first: none or an unknown one is 401, a key without the scope 403", async () => {
    const path = "/v1/customers/head-anyone/next-offer?context=in_app";
    expect((await head(path)).status).toBe(401);
    const unknown = await head(path, "rbk_not-a-real-key");
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get("allow")).toBeNull();
    expect((await head(path, keys.writer)).status).toBe(403);
    expect(await storedDecisions("head-anyone")).toBe(0);
  });

  it("lists GET alone for other wrong methods on the path too", async () => {
    const posted = await call("/v1/customers/head-x/next-offer", {
      key: keys.reader,
      method: "POST",
      body: {},
    });
    expect(posted.status).toBe(405);
    expect(posted.body.error.message).toContain("it answers GET.");
  });

  it("leaves HEAD working on GET routes without side effects", async () => {
    await payingCustomer(keys.writer, "head-profile");
    const profile = await head("/v1/customers/head-profile", keys.admin);
    expect(profile.status).toBe(200);
    expect(await profile.text()).toBe("");
    const decision = await head("/v1/decisions/dec_0000000000000000000000000000", keys.reader);
    expect(decision.status).toBe(404);
  });
});

describe("query parameters of GET next-offer", () => {
  it("refuses unknown parameters, each with its ?path, instead of ignoring them", async () => {
    const refused = await call("/v1/customers/q-1/next-offer?context=in_app&foo=1&contxt=winback", {
      key: keys.reader,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: "validation_failed",
      message: "The request is invalid (2 problems).",
    });
    expect(refused.body.error.details).toEqual([
      { path: "?foo", message: "is not a parameter of this route; use context, reason, explain" },
      { path: "?contxt", message: "is not a parameter of this route; use context, reason, explain" },
    ]);
    expect(await storedDecisions("q-1")).toBe(0);
  });

  it("refuses a parameter given twice, rather than picking one", async () => {
    const refused = await call(
      "/v1/customers/q-2/next-offer?context=in_app&context=winback&explain=1&explain=1",
      {
        key: keys.reader,
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { path: "?context", message: "is given 2 times; give it once" },
      { path: "?explain", message: "is given 2 times; give it once" },
    ]);
    expect(await storedDecisions("q-2")).toBe(0);
  });

  it("still answers context, reason and explain given once", async () => {
    await payingCustomer(keys.writer, "q-3", { ltv: 9_000 });
    const answered = await call(
      "/v1/customers/q-3/next-offer?context=cancel_flow&reason=hard_to_use&explain=1",
      {
        key: keys.admin,
        headers: { "x-rebound-now": at(0) },
      },
    );
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ context: "cancel_flow", reason: "hard_to_use" });
    expect(Array.isArray(answered.body.trace)).toBe(true);
  });

  it("says a missing ?context is required, and lists the contexts for a wrong one", async () => {
    const missing = await call("/v1/customers/q-4/next-offer", { key: keys.reader });
    expect(missing.body.error.details).toEqual([
      { path: "?context", message: "is required; use one of cancel_flow, in_app, winback, dunning" },
    ]);
    const wrong = await call("/v1/customers/q-4/next-offer?context=checkout", { key: keys.reader });
    expect(wrong.body.error.details).toEqual([
      { path: "?context", message: "must be one of cancel_flow, in_app, winback, dunning" },
    ]);
  });

  it("names a bad customer id in the URL path:id, and blames the request, not a body it has not got", async () => {
    const long = await call(`/v1/customers/${"c".repeat(129)}/next-offer?context=in_app`, {
      key: keys.reader,
    });
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({
      code: "validation_failed",
      message: "The request is invalid (1 problem).",
      details: [
        {
          path: "path:id",
          message:
            "is not a valid id: 1 to 128 characters, no control characters, no whitespace at the start or end",
        },
      ],
    });
  });
});

describe("POST /v1/decisions problems", () => {
  it("lists the allowed contexts for an unknown one, and blames the body", async () => {
    const refused = await call("/v1/decisions", {
      key: keys.reader,
      body: { customer_id: "p-1", context: "checkout" },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: "validation_failed",
      message: "The request body is invalid (1 problem).",
      details: [{ path: "/context", message: "must be one of cancel_flow, in_app, winback, dunning" }],
    });
  });

  it("refuses an unknown query parameter next to ?explain", async () => {
    const refused = await call("/v1/decisions?explain=1&verbose=1", {
      key: keys.reader,
      body: { customer_id: "p-2", context: "in_app" },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { path: "?verbose", message: "is not a parameter of this route; use explain" },
    ]);
    expect(await storedDecisions("p-2")).toBe(0);
  });
});

describe("X-Rebound-Now", () => {
  it("refuses a date that does not exist instead of rolling it into the next month", async () => {
    for (const impossible of [
      "2026-02-30T00:00:00Z",
      "2026-04-31T10:00:00Z",
      "2026-03-01T24:00:00Z",
      "2025-02-29T00:00:00Z",
    ]) {
      const refused = await call("/v1/customers/now-1/next-offer?context=in_app", {
        key: keys.admin,
        headers: { "x-rebound-now": impossible },
      });
      expect({ impossible, status: refused.status }).toEqual({ impossible, status: 400 });
      expect(refused.body.error).toMatchObject({
        code: "validation_failed",
        message: "The request is invalid (1 problem).",
        details: [{ path: "header:X-Rebound-Now" }],
      });
    }
    expect(await storedDecisions("now-1")).toBe(0);
  });

  it("takes a real leap day and an offset time", async () => {
    const leap = await call("/v1/customers/now-2/next-offer?context=in_app", {
      key: keys.admin,
      headers: { "x-rebound-now": "2028-02-29T12:00:00+02:00" },
    });
    expect(leap.status).toBe(200);
    expect(leap.body.created_at).toBe("2028-02-29T10:00:00.000Z");
  });
});

describe("?explain values", () => {
  it("refuses a value other than 1, true, 0 or false on both routes, and stores nothing", async () => {
    await payingCustomer(keys.writer, "x-1");
    for (const value of ["yes", "", "TRUE", "2"]) {
      const posted = await call(`/v1/decisions?explain=${value}`, {
        key: keys.admin,
        body: { customer_id: "x-1", context: "in_app" },
        headers: { "x-rebound-now": at(0) },
      });
      expect(posted.status).toBe(400);
      expect(posted.body.error).toMatchObject({
        code: "validation_failed",
        message: "The request is invalid (1 problem).",
        details: [{ path: "?explain", message: "must be 1, true, 0 or false" }],
      });
      const got = await call(`/v1/customers/x-1/next-offer?context=in_app&explain=${value}`, {
        key: keys.admin,
        headers: { "x-rebound-now": at(0) },
      });
      expect(got.status).toBe(400);
      expect(got.body.error.details).toEqual([{ path: "?explain", message: "must be 1, true, 0 or false" }]);
    }
    expect(await storedDecisions("x-1")).toBe(0);
  });

  it("gives the trace for 1 and true, and leaves it out for 0 and false", async () => {
    await payingCustomer(keys.writer, "x-2");
    for (const [value, traced] of [
      ["1", true],
      ["true", true],
      ["0", false],
      ["false", false],
    ] as const) {
      const posted = await call(`/v1/decisions?explain=${value}`, {
        key: keys.admin,
        body: { customer_id: "x-2", context: "in_app" },
        headers: { "x-rebound-now": at(0) },
      });
      expect(posted.status).toBe(200);
      expect("trace" in posted.body).toBe(traced);
      const got = await call(`/v1/customers/x-2/next-offer?context=in_app&explain=${value}`, {
        key: keys.admin,
        headers: { "x-rebound-now": at(0) },
      });
      expect(got.status).toBe(200);
      expect("trace" in got.body).toBe(traced);
    }
  });
});
