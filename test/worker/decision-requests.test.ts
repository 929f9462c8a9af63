// How the decision routes treat a request before deciding anything: HEAD on GET next-offer (which
// would store a decision) is refused, query parameters and headers are checked as strictly as POST
// bodies, and every refusal says what is wrong where.
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { at, cancel, decisionKeys, offeredIds, payingCustomer } from "./decision-fixtures";
import { call } from "./helpers";

let writer: string;
let admin: string;
let reader: string;
beforeAll(async () => {
  ({ writer, admin, reader } = await decisionKeys());
});

async function storedDecisions(customerId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM decisions WHERE customer_id = ?1")
    .bind(customerId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function head(path: string, key?: string, headers: Record<string, string> = {}): Promise<Response> {
  return await exports.default.fetch(`http://rebound.test${path}`, {
    method: "HEAD",
    headers: key ? { ...headers, authorization: `Bearer ${key}` } : headers,
  });
}

describe("HEAD on GET next-offer", () => {
  it("is 405 with Allow: GET and stores no decision, so a prefetch starts no cooldown", async () => {
    const id = offeredIds("head", 1)[0]!;
    await payingCustomer(writer, id, { ltv: 20_000 });
    await cancel(writer, id, "2026-03-01T09:00:00Z", "too_expensive");
    const path = `/v1/customers/${id}/next-offer?context=winback`;

    for (const key of [reader, admin]) {
      const refused = await head(path, key, { "x-rebound-now": at(0) });
      expect(refused.status).toBe(405);
      expect(refused.headers.get("allow")).toBe("GET");
    }
    expect(await storedDecisions(id)).toBe(0);

    const asked = await call(path, { key: admin, headers: { "x-rebound-now": at(0) } });
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
    expect((await head(path, writer)).status).toBe(403);
    expect(await storedDecisions("head-anyone")).toBe(0);
  });

  it("lists GET alone for other wrong methods on the path too", async () => {
    const posted = await call("/v1/customers/head-x/next-offer", { key: reader, method: "POST", body: {} });
    expect(posted.status).toBe(405);
    expect(posted.body.error.message).toContain("it answers GET.");
  });

  it("leaves HEAD working on GET routes without side effects", async () => {
    await payingCustomer(writer, "head-profile");
    const profile = await head("/v1/customers/head-profile", admin);
    expect(profile.status).toBe(200);
    expect(await profile.text()).toBe("");
    const decision = await head("/v1/decisions/dec_0000000000000000000000000000", reader);
    expect(decision.status).toBe(404);
  });
});
