// Per-customer routes on a sharded deployment: ingest, profiles, decisions, offers, privacy and API
// keys touch only the customer's shard, find decisions by the slot their id carries (and ids made
// before sharding on any shard), and answer as one database does for the same events.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../worker/api/app";
import { copyKeysToShard } from "../../worker/auth/key-copies";
import type { Scope } from "../../worker/auth/keys";
import { customerSlot, placedShard, SLOT_COUNT, shardOfSlot } from "../../worker/db/shards";
import type { Env } from "../../worker/env";
import { idSlot } from "../../worker/ids";
import { at, offeredIds } from "./decision-fixtures";
import { issueKey } from "./helpers";
import { issueKeyOnEvery, shardedEnv, spareDatabase } from "./shard-env";

const ADMIN_KEY = "rbk_bootstrap_admin_for_shard_routes";

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
type Json = any;

/** Calls the API of the deployment `bindings`, as worker/index.ts hands a fetch to the app. */
async function api(
  bindings: Env,
  path: string,
  options: { key?: string; body?: unknown; method?: string; now?: string } = {},
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.now) headers["x-rebound-now"] = options.now;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await app.fetch(
    new Request(`http://rebound.test${path}`, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
    }),
    bindings,
    createExecutionContext(),
  );
  return { status: response.status, body: await response.json() };
}

/** Issues a key straight into every database of a deployment. */
const issueKeyEverywhere = (databases: readonly D1Database[], scopes: readonly Scope[]) =>
  issueKeyOnEvery(databases, scopes);

/** A paying customer's two events, with ids fixed so both deployments receive the same ones. */
function payingEvents(id: string) {
  return [
    {
      id: `${id}-start`,
      type: "subscription.started",
      customer_id: id,
      occurred_at: "2025-06-01T00:00:00Z",
      properties: { plan: "pro", mrr: 4900, currency: "USD" },
    },
    {
      id: `${id}-paid`,
      type: "payment.succeeded",
      customer_id: id,
      occurred_at: "2026-02-01T00:00:00Z",
      properties: { invoice_id: `in_${id}`, amount: 80_000, currency: "USD" },
    },
  ];
}

async function countWhere(db: D1Database, table: string, column: string, value: string): Promise<number> {
  const row = await db
    .prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?1`)
    .bind(value)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

const customers = offeredIds("shard-route", 40);
let databases: D1Database[];
let four: Env;
let one: Env;
let writer: string;
let writerOne: string;

/** The first customer placed on each of the four shards. */
function customerOn(shard: number): string {
  const id = customers.find((candidate) => placedShard(candidate, 4) === shard);
  if (!id) throw new Error(`no test customer on shard ${shard}`);
  return id;
}

beforeAll(async () => {
  databases = [env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3)];
  four = await shardedEnv(databases, { REBOUND_ADMIN_KEY: ADMIN_KEY });
  one = await shardedEnv([spareDatabase(4)], { REBOUND_ADMIN_KEY: ADMIN_KEY });
  writer = await issueKeyEverywhere(databases, ["events:write"]);
  writerOne = await issueKeyEverywhere([spareDatabase(4)], ["events:write"]);
  const events = customers.flatMap(payingEvents);
  const stored = await api(four, "/v1/events", { key: writer, body: { events } });
  expect(stored.status).toBe(200);
  expect(stored.body).toMatchObject({ accepted: 80, duplicates: 0 });
  const storedOne = await api(one, "/v1/events", { key: writerOne, body: { events } });
  expect(storedOne.status).toBe(200);
  expect(storedOne.body).toMatchObject({ accepted: 80, duplicates: 0 });
});

describe("per-customer routes on four shards", () => {
  it("places every customer's profile, events and daily history on its shard only", async () => {
    // The 40 customers land on every shard, so the batch really was split.
    expect(new Set(customers.map((id) => placedShard(id, 4))).size).toBe(4);
    for (const id of customers) {
      const home = placedShard(id, 4);
      for (const [index, db] of databases.entries()) {
        const expected = index === home ? 1 : 0;
        expect(await countWhere(db, "customers", "id", id), `${id} on shard ${index}`).toBe(expected);
        expect(await countWhere(db, "events", "customer_id", id)).toBe(2 * expected);
        expect(await countWhere(db, "event_days", "customer_id", id)).toBe(2 * expected);
      }
    }
  });

  it("answers a profile as one database does for the same events", async () => {
    for (const id of customers) {
      const path = `/v1/customers/${id}`;
      const sharded = await api(four, path, { key: ADMIN_KEY });
      const single = await api(one, path, { key: ADMIN_KEY });
      expect(sharded.status).toBe(200);
      expect(sharded.body).toEqual(single.body);
      expect(sharded.body.customer).toMatchObject({ id, plan: "pro", mrr: 4900 });
    }
  });

  it("decides, accepts and reads a decision back on the customer's shard, as one database does", async () => {
    for (let shard = 0; shard < 4; shard++) {
      const id = customerOn(shard);
      const ask = { customer_id: id, context: "cancel_flow", reason: "too_expensive" };
      const decided = await api(four, "/v1/decisions", { key: ADMIN_KEY, body: ask, now: at(0) });
      const decidedOne = await api(one, "/v1/decisions", { key: ADMIN_KEY, body: ask, now: at(0) });
      expect(decided.status).toBe(200);
      expect(decided.body.offer?.key).toBe("price_high_value");
      expect(decided.body.offer).toEqual(decidedOne.body.offer);
      expect(decided.body.variant).toBe(decidedOne.body.variant);
      const decisionId: string = decided.body.decision_id;
      expect(shardOfSlot(idSlot(decisionId), 4)).toBe(shard);
      for (const [index, db] of databases.entries()) {
        expect(await countWhere(db, "decisions", "id", decisionId)).toBe(index === shard ? 1 : 0);
      }

      const nextOffer = await api(four, `/v1/customers/${id}/next-offer?context=cancel_flow`, {
        key: ADMIN_KEY,
        now: at(0),
      });
      expect(nextOffer.status).toBe(200);
      expect(nextOffer.body).toMatchObject({ decision_id: decisionId, reused: true });

      const accepted = await api(four, `/v1/offers/${decisionId}/accept`, {
        key: ADMIN_KEY,
        now: at(1),
        method: "POST",
      });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({ decision_id: decisionId, status: "accepted" });
      expect(await countWhere(databases[shard]!, "redemptions", "decision_id", decisionId)).toBe(1);

      const read = await api(four, `/v1/decisions/${decisionId}`, { key: ADMIN_KEY, now: at(2) });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ decision_id: decisionId, customer_id: id, status: "accepted" });
      expect(read.body.redemption).toMatchObject({ offer_key: "price_high_value" });
    }
  });

  it("finds a decision whose id was made before sharding, on whichever shard holds it", async () => {
    const id = customers.filter((candidate) => placedShard(candidate, 4) === 2)[1]!;
    const ask = { customer_id: id, context: "cancel_flow", reason: "too_expensive" };
    const decided = await api(four, "/v1/decisions", { key: ADMIN_KEY, body: ask, now: at(0) });
    expect(decided.status).toBe(200);
    // An id from before sharding: its slot digits were random, here a slot placed on shard 1.
    const elsewhere = Array.from({ length: SLOT_COUNT }, (_, slot) => slot).find(
      (slot) => shardOfSlot(slot, 4) === 1,
    )!;
    const original: string = decided.body.decision_id;
    const legacy = `${original.slice(0, 16)}${elsewhere.toString(16).padStart(3, "0")}${original.slice(19)}`;
    expect(shardOfSlot(idSlot(legacy), 4)).toBe(1);
    await databases[2]!.prepare("UPDATE decisions SET id = ?2 WHERE id = ?1").bind(original, legacy).run();

    const read = await api(four, `/v1/decisions/${legacy}`, { key: ADMIN_KEY, now: at(0) });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ decision_id: legacy, customer_id: id, status: "outstanding" });
    const accepted = await api(four, `/v1/offers/${legacy}/accept`, {
      key: ADMIN_KEY,
      now: at(1),
      method: "POST",
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe("accepted");
    expect(await countWhere(databases[2]!, "redemptions", "decision_id", legacy)).toBe(1);
    expect(await countWhere(databases[1]!, "redemptions", "decision_id", legacy)).toBe(0);

    const missing = `${original.slice(0, 19)}${"0".repeat(13)}`;
    const notFound = await api(four, `/v1/decisions/${missing}`, { key: ADMIN_KEY, now: at(0) });
    expect(notFound.status).toBe(404);
    expect(notFound.body.error.code).toBe("decision_not_found");
  });

  it("checks a folded key on the customer's shard: a key on the control database alone works only there", async () => {
    const controlOnly = await issueKey(["decisions:read"]);
    for (let shard = 0; shard < 4; shard++) {
      const { status } = await api(four, `/v1/customers/${customerOn(shard)}/next-offer?context=in_app`, {
        key: controlOnly,
      });
      expect(status, `shard ${shard}`).toBe(shard === 0 ? 200 : 401);
    }
    // A shard added after the key was made gets it from the control database (the move tool's job).
    for (const db of databases.slice(1)) expect(await copyKeysToShard(four, db)).toBeGreaterThan(0);
    for (let shard = 0; shard < 4; shard++) {
      const { status } = await api(four, `/v1/customers/${customerOn(shard)}/next-offer?context=in_app`, {
        key: controlOnly,
      });
      expect(status, `shard ${shard}`).toBe(200);
    }
  });

  it("copies a key created through the API to every shard, and a revoked key is refused on every shard", async () => {
    const created = await api(four, "/v1/admin/api-keys", {
      key: ADMIN_KEY,
      body: { name: "app", scopes: ["decisions:read"] },
    });
    expect(created.status).toBe(201);
    const { id, key } = created.body.api_key;
    for (const db of databases) expect(await countWhere(db, "api_keys", "id", id)).toBe(1);
    const listed = await api(four, "/v1/admin/api-keys", { key: ADMIN_KEY });
    expect(listed.body.api_keys.filter((row: Json) => row.id === id)).toHaveLength(1);

    for (let shard = 0; shard < 4; shard++) {
      const customer = customerOn(shard);
      // No X-Rebound-Now: the key lookup rides in the decision's read on the customer's shard.
      const offer = await api(four, `/v1/customers/${customer}/next-offer?context=in_app`, { key });
      expect(offer.status, `shard ${shard}`).toBe(200);
      const profile = await api(four, `/v1/customers/${customer}`, { key });
      expect(profile.status).toBe(200);
    }

    const revoked = await api(four, `/v1/admin/api-keys/${id}`, { key: ADMIN_KEY, method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect(revoked.body.api_key.revoked_at).not.toBeNull();
    for (const db of databases) {
      const row = await db.prepare("SELECT revoked_at FROM api_keys WHERE id = ?1").bind(id).first();
      expect(row?.revoked_at).not.toBeNull();
    }
    for (let shard = 0; shard < 4; shard++) {
      const customer = customerOn(shard);
      const offer = await api(four, `/v1/customers/${customer}/next-offer?context=in_app`, { key });
      expect(offer.status, `shard ${shard}`).toBe(401);
      const ask = { customer_id: customer, context: "in_app" };
      const decision = await api(four, "/v1/decisions", { key, body: ask });
      expect(decision.status).toBe(401);
      expect((await api(four, `/v1/customers/${customer}`, { key })).status).toBe(401);
    }
  });

  it("answers a failed key write with a 5xx, and sending it again converges", async () => {
    // Shard 2 without its migrations: it has no api_keys table.
    const broken: Env = { ...four, DB_2: spareDatabase(5) } as Env;
    const failed = await api(broken, "/v1/admin/api-keys", {
      key: ADMIN_KEY,
      body: { name: "half made", scopes: ["events:write"] },
    });
    expect(failed.status).toBe(500);
    const listed = await api(four, "/v1/admin/api-keys", { key: ADMIN_KEY });
    expect(listed.body.api_keys.some((row: Json) => row.name === "half made")).toBe(false);
    // The copies the failed request wrote cannot be used: they are revoked.
    const live = await databases[1]!
      .prepare("SELECT count(*) AS n FROM api_keys WHERE name = 'half made' AND revoked_at IS NULL")
      .first<{ n: number }>();
    expect(live?.n).toBe(0);

    const created = await api(four, "/v1/admin/api-keys", {
      key: ADMIN_KEY,
      body: { name: "made", scopes: ["decisions:read"] },
    });
    expect(created.status).toBe(201);
    const { id, key } = created.body.api_key;
    const revokeFailed = await api(broken, `/v1/admin/api-keys/${id}`, { key: ADMIN_KEY, method: "DELETE" });
    expect(revokeFailed.status).toBe(500);
    // Not revoked on the control database yet, so the listing still shows it live.
    const stillLive = await api(four, "/v1/admin/api-keys", { key: ADMIN_KEY });
    expect(stillLive.body.api_keys.find((row: Json) => row.id === id).revoked_at).toBeNull();

    const revoked = await api(four, `/v1/admin/api-keys/${id}`, { key: ADMIN_KEY, method: "DELETE" });
    expect(revoked.status).toBe(200);
    for (let shard = 0; shard < 4; shard++) {
      const offer = await api(four, `/v1/customers/${customerOn(shard)}/next-offer?context=in_app`, { key });
      expect(offer.status, `shard ${shard}`).toBe(401);
    }
  });

  it("exports and erases a customer on its shard", async () => {
    const id = customerOn(3);
    const exported = await api(four, `/v1/admin/customers/${id}/export`, { key: ADMIN_KEY });
    expect(exported.status).toBe(200);
    expect(exported.body.profile).toMatchObject({ id, plan: "pro" });
    expect(exported.body.events).toHaveLength(2);

    const erased = await api(four, `/v1/admin/customers/${id}/erase`, { key: ADMIN_KEY, method: "POST" });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ status: "erased", deleted: { customers: 1, events: 2 } });
    for (const [index, db] of databases.entries()) {
      expect(await countWhere(db, "customers", "id", id)).toBe(0);
      expect(await countWhere(db, "events", "customer_id", id)).toBe(0);
      expect(await countWhere(db, "erasures", "customer_key", erased.body.customer_key)).toBe(
        index === 3 ? 1 : 0,
      );
    }
    expect((await api(four, `/v1/customers/${id}`, { key: ADMIN_KEY })).status).toBe(404);
    const resent = await api(four, "/v1/events", { key: writer, body: { events: payingEvents(id) } });
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ accepted: 0, erased: 2 });
  });

  it("erases a customer who accepted an offer (redemptions go before their decisions), on one database too", async () => {
    for (const deployment of [four, one]) {
      const id = customers.filter((candidate) => placedShard(candidate, 4) === 1)[2]!;
      const ask = { customer_id: id, context: "cancel_flow", reason: "too_expensive" };
      const decided = await api(deployment, "/v1/decisions", { key: ADMIN_KEY, body: ask, now: at(0) });
      const path = `/v1/offers/${decided.body.decision_id}/accept`;
      expect((await api(deployment, path, { key: ADMIN_KEY, now: at(1), method: "POST" })).status).toBe(200);
      const erased = await api(deployment, `/v1/admin/customers/${id}/erase`, {
        key: ADMIN_KEY,
        method: "POST",
      });
      expect(erased.status).toBe(200);
      expect(erased.body.deleted).toMatchObject({ customers: 1, decisions: 1, redemptions: 1 });
      expect(Object.keys(erased.body.deleted).slice(0, 5)).toEqual([
        "customers",
        "events",
        "event_days",
        "decisions",
        "redemptions",
      ]);
    }
  });

  it("reads the floor's customer row on its shard", async () => {
    const id = customerOn(1);
    const floor = await api(four, `/v1/admin/floor/${id}`, { key: ADMIN_KEY });
    expect(floor.status).toBe(200);
    expect(floor.body.customer).toMatchObject({ id });
    expect(customerSlot(id)).toBeGreaterThanOrEqual(0);
  });
});
