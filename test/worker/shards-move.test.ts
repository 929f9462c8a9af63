// Adding a shard (worker/shards/, docs/scaling.md): a 4-shard deployment with customers that have
// events, decisions, sends and dunning cases grows to 5 shards; the move tool moves every customer
// whose slot now belongs to the new shard, and nothing is lost, duplicated or left behind. Writes
// that race a move are refused with 503 customer_moving by the database's own fences and land once
// on retry; a customer with a send being delivered waits; a move interrupted between any two steps
// completes when run again.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/api/app";
import { customerKey } from "../../worker/customer-key";
import { customerSlot, placedShard } from "../../worker/db/shards";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import type { Env } from "../../worker/env";
import { newSendId } from "../../worker/ids";
import worker from "../../worker/index";
import { type CustomerRows, readCustomerRows } from "../../worker/shards/copy";
import { installFenceTriggers, removeFenceTriggers } from "../../worker/shards/fence-triggers";
import {
  copyAndVerify,
  fenceOld,
  finishMove,
  MOVED_TABLES,
  type Move,
  moveCustomer,
  switchPlacement,
} from "../../worker/shards/move-customer";
import { destination } from "../../worker/shards/plan";
import { runShardedTick } from "../../worker/tick/sharded-tick";
import { issueKeyOnEvery, shardedEnv, spareDatabase } from "./shard-env";

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely and assert on them
type Json = any;

const T0 = Date.parse("2026-03-03T15:00:00Z");
const DAY = 86_400_000;
const at = (days: number) => new Date(T0 + days * DAY).toISOString();
/** Customer ids; each test uses its own prefix, so their rows never meet. */
function customerIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}_${String(i).padStart(2, "0")}`);
}
const CUSTOMERS = customerIds("cus_mv", 60);
const GROWTH = { from: 4, count: 5 };

/** Databases of the 4-shard deployment, then the spare that becomes shard 4. */
function databases(): D1Database[] {
  return [env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3), spareDatabase(4)];
}

/** One admin key, stored on every database (keys are copied to every shard). */
async function adminKey(dbs: readonly D1Database[]): Promise<string> {
  await shardedEnv(databases());
  return issueKeyOnEvery(dbs, ["admin"]);
}

/** Calls the Worker with `deployment` as its env. */
async function request(
  deployment: Env,
  path: string,
  options: { key: string; body?: unknown; method?: string; now?: string },
): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key}` };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.now) headers["x-rebound-now"] = options.now;
  const response = await worker.fetch(
    new Request(`http://rebound.test${path}`, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    deployment,
    createExecutionContext(),
  );
  return { status: response.status, body: await response.json(), headers: response.headers };
}

/** The events of one customer: a profile, a subscription, payments, one failed. */
function eventsOf(id: string, i: number) {
  return [
    {
      id: `evt_${id}_1`,
      type: "customer.updated",
      customer_id: id,
      occurred_at: at(-80),
      properties: { email: `${id}@example.com`, first_name: `C${i}` },
    },
    {
      id: `evt_${id}_2`,
      type: "subscription.started",
      customer_id: id,
      occurred_at: at(-80),
      properties: { plan: "pro", mrr: 4900 + i, currency: "USD" },
    },
    {
      id: `evt_${id}_3`,
      type: "payment.succeeded",
      customer_id: id,
      occurred_at: at(-10),
      properties: { invoice_id: `in_${id}_a`, amount: 90000, currency: "USD" },
    },
    {
      id: `evt_${id}_4`,
      type: "payment.failed",
      customer_id: id,
      occurred_at: at(-2),
      properties: {
        invoice_id: `in_${id}_b`,
        amount: 4900,
        currency: "USD",
        decline_code: "insufficient_funds",
      },
    },
  ];
}

/**
 * Seeds the 4-shard deployment through its API (events, one decision per customer), then one sent
 * and one pending-later send and a dunning case per customer on its shard.
 */
async function seed(four: Env, key: string, customers: readonly string[]): Promise<void> {
  const events = customers.flatMap((id, i) => eventsOf(id, i));
  for (let start = 0; start < events.length; start += 100) {
    const answer = await request(four, "/v1/events", {
      key,
      body: { events: events.slice(start, start + 100) },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }
  for (const id of customers) {
    const answer = await request(four, "/v1/decisions", {
      key,
      body: { customer_id: id, context: "cancel_flow", reason: "too_expensive" },
      // A day before the asks the tests compare: decisions.ts picks the latest "no offer" by its
      // time alone, so two made at the same instant would tie (their order is the table's).
      now: at(-1),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }
  const dbs = databases();
  let sequence = 0;
  for (const id of customers) {
    const db = dbs[placedShard(id, 4)] as D1Database;
    const slot = customerSlot(id);
    for (const [step, status, notBefore] of [
      ["day-0", "sent", T0 - DAY],
      ["day-3", "queued", T0 + 3 * DAY],
    ] as const) {
      sequence += 1;
      await db
        .prepare(
          `INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel, message_key,
             recipient, variables, status, attempts, not_before, created_at, sent_at, updated_at)
           VALUES (?1, 'dunning', 'default', ?2, ?3, ?4, 'outbox', 'dunning_day_0', ?5, '{}', ?6, ?7, ?8, ?9, ?10, ?9)`,
        )
        .bind(
          newSendId(T0 - DAY, sequence, slot),
          `in_${id}_b`,
          step,
          id,
          `${id}@example.com`,
          status,
          status === "sent" ? 1 : 0,
          notBefore,
          T0 - DAY,
          status === "sent" ? T0 - DAY : null,
        )
        .run();
    }
    await db
      .prepare(
        `INSERT OR IGNORE INTO dunning_cases (customer_id, invoice_id, cadence, status, failed_at, amount, currency, opened_at,
           opened_day, mrr_at_risk)
         VALUES (?1, ?2, 'default', 'open', ?3, 4900, 'USD', ?3, ?4, 4900)`,
      )
      .bind(id, `in_${id}_b`, T0 - 2 * DAY, Math.floor((T0 - 2 * DAY) / DAY))
      .run();
  }
}

/** Every row of each customer, read from the shard it is placed on under `count`. */
async function snapshot(customers: readonly string[], count: number): Promise<Map<string, CustomerRows>> {
  const dbs = databases();
  const rows = new Map<string, CustomerRows>();
  for (const id of customers)
    rows.set(id, await readCustomerRows(dbs[placedShard(id, count)] as D1Database, id));
  return rows;
}

function rowCount(rows: CustomerRows): number {
  let total = 0;
  for (const table of rows.values()) total += table.length;
  return total;
}

/** Sum of every metric_days count across the shards: a move must neither add nor remove a count. */
async function metricTotal(): Promise<number> {
  let total = 0;
  for (const db of databases()) {
    const row = await db
      .prepare("SELECT coalesce(sum(count), 0) AS n FROM metric_days")
      .first<{ n: number }>();
    total += row?.n ?? 0;
  }
  return total;
}

/**
 * The API answers a client would compare: the profile, and the next offer. Asking for an offer
 * records a decision: an outstanding offer is answered again as is (`reused`), while "no offer" is
 * recorded afresh with a new id each time, so those ids and each answer's cost (`meta`) are left out.
 */
async function answers(deployment: Env, key: string, customers: readonly string[]) {
  const out: Record<string, unknown> = {};
  for (const id of customers) {
    const profile = await request(deployment, `/v1/customers/${id}`, { key });
    const offer = await request(deployment, `/v1/customers/${id}/next-offer?context=cancel_flow`, {
      key,
      now: at(0),
    });
    const { meta: _meta, ...decision } = offer.body;
    if (decision.status === "no_offer") delete decision.decision_id;
    out[id] = { profile: [profile.status, profile.body], offer: [offer.status, decision] };
  }
  return out;
}

/**
 * Runs POST /v1/admin/shards/move until a pass ends with nothing remaining (over the old shard
 * `shard` only, when given); returns every answer.
 */
async function moveAll(growing: Env, key: string, shard?: number): Promise<Json[]> {
  const calls: Json[] = [];
  let cursor: string | null = null;
  for (let call = 0; call < 100; call += 1) {
    const body = shard === undefined ? { limit: 15, cursor } : { limit: 15, cursor, shard };
    const answer = await request(growing, "/v1/admin/shards/move", { key, body });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.queries).toBeLessThan(1000);
    calls.push(answer.body);
    cursor = answer.body.next_cursor;
    if (cursor === null && answer.body.remaining === 0) return calls;
  }
  throw new Error("the move did not finish in 100 calls");
}

function movers(customers: readonly string[]): string[] {
  return customers.filter((id) => destination(id, placedShard(id, 4), GROWTH) !== null);
}

function moveOf(id: string): Move {
  const dbs = databases();
  const from = placedShard(id, 4);
  const to = placedShard(id, 5);
  return {
    control: env.DB,
    customerId: id,
    from: { index: from, db: dbs[from] as D1Database },
    to: { index: to, db: dbs[to] as D1Database },
  };
}

/** The fence triggers a database holds (the move pass installs them; a finish drops them). */
async function fenceTriggers(db: D1Database): Promise<number> {
  const row = await db
    .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name GLOB '*_fence_*'")
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function fenceOn(db: D1Database, id: string): Promise<string | null> {
  const row = await db
    .prepare("SELECT state FROM customer_fences WHERE customer_id = ?")
    .bind(id)
    .first<{ state: string }>();
  return row?.state ?? null;
}

/**
 * Twenty customers with histories on four shards, and the first of them a growth to five moves:
 * its old shard, the five databases, an admin key, and the growing deployment.
 */
async function oneMover(prefix: string) {
  const dbs = databases();
  const customers = customerIds(prefix, 20);
  const key = await adminKey(dbs);
  await seed(await shardedEnv(dbs.slice(0, 4)), key, customers);
  const id = movers(customers)[0] as string;
  const growing = await shardedEnv(dbs, { SHARDS_FROM: "4" });
  return { dbs, key, id, old: dbs[placedShard(id, 4)] as D1Database, growing };
}

describe("growing from 4 to 5 shards", () => {
  it("moves every customer whose slot moves, exactly, and leaves the others untouched", async () => {
    const dbs = databases();
    const four = await shardedEnv(dbs.slice(0, 4));
    // The key exists before the growth: on the four shards only, until the move tool copies it.
    const key = await adminKey(dbs.slice(0, 4));
    await seed(four, key, CUSTOMERS);
    const moving = movers(CUSTOMERS);
    expect(moving.length).toBeGreaterThan(5);
    expect(moving.length).toBeLessThan(CUSTOMERS.length);
    await answers(four, key, CUSTOMERS); // the first ask records the decisions later asks reuse
    const answersBefore = await answers(four, key, CUSTOMERS);
    const before = await snapshot(CUSTOMERS, 4);
    const metricsBefore = await metricTotal();

    const growing = await shardedEnv(dbs, { SHARDS_FROM: "4" });
    const plan = await request(growing, "/v1/admin/shards", { key });
    expect(plan.body).toMatchObject({ count: 5, from: 4, to_move: moving.length });
    const calls = await moveAll(growing, key);
    const moved = calls.flatMap((call) => call.moved.map((m: Json) => m.customer_id));
    expect(moved.sort()).toEqual([...moving].sort());
    expect(calls.flatMap((call) => call.skipped)).toEqual([]);

    const after = await snapshot(CUSTOMERS, 5);
    for (const id of CUSTOMERS) {
      expect(after.get(id), id).toEqual(before.get(id));
      expect(rowCount(after.get(id) as CustomerRows), id).toBeGreaterThanOrEqual(8);
    }
    for (const id of moving) {
      const old = dbs[placedShard(id, 4)] as D1Database;
      expect(rowCount(await readCustomerRows(old, id)), id).toBe(0);
      expect(await fenceOn(old, id)).toBe("moved");
      expect(await fenceOn(dbs[4] as D1Database, id)).toBeNull();
    }
    expect(await metricTotal()).toBe(metricsBefore);
    expect(await answers(growing, key, CUSTOMERS)).toEqual(answersBefore);
    // The key made before the growth was copied to the new shard, where moved customers' decisions
    // look it up in their own read.
    const keysOnNew = await (dbs[4] as D1Database)
      .prepare("SELECT count(*) AS n FROM api_keys")
      .first<{ n: number }>();
    expect(keysOnNew?.n).toBeGreaterThan(0);
    const decided = await request(growing, "/v1/decisions", {
      key,
      body: { customer_id: moving[0], context: "cancel_flow", reason: "too_expensive" },
      now: at(0),
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);

    // A second run finds nothing to do and changes nothing.
    const again = await moveAll(growing, key);
    expect(again.flatMap((call) => call.moved)).toEqual([]);
    expect(await snapshot(CUSTOMERS, 5)).toEqual(after);

    // The growth is over: without SHARDS_FROM every customer is where placedShard(id, 5) says.
    const five = await shardedEnv(dbs, { SHARDS_FROM: undefined });
    expect((await request(five, "/v1/admin/shards", { key })).body).toMatchObject({ count: 5, from: null });
    expect(await answers(five, key, CUSTOMERS)).toEqual(answersBefore);
  });

  it("refuses a write that races the move with 503 customer_moving; the retry lands once on the new shard", async () => {
    const { key, id, growing } = await oneMover("cus_race");
    const move = moveOf(id);
    const late = {
      id: `evt_${id}_late`,
      type: "payment.succeeded",
      customer_id: id,
      occurred_at: at(0),
      properties: { invoice_id: `in_${id}_c`, amount: 4900, currency: "USD" },
    };

    // What the first call of a pass does on the shards it involves, before it fences anyone.
    await installFenceTriggers(move.from.db);
    await installFenceTriggers(move.to.db);
    expect(await fenceOld(move, T0)).toBeNull();
    const refused = await request(growing, "/v1/events", { key, body: { events: [late] } });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("customer_moving");
    expect(refused.headers.get("retry-after")).toBe("2");

    expect(await moveCustomer(move, T0)).toMatchObject({ kind: "moved" });
    const retried = await request(growing, "/v1/events", { key, body: { events: [late] } });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const stored = await move.to.db
      .prepare("SELECT count(*) AS n FROM events WHERE id = ?")
      .bind(late.id)
      .first<{ n: number }>();
    expect(stored?.n).toBe(1);
    const left = await move.from.db
      .prepare("SELECT count(*) AS n FROM events WHERE customer_id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
    // A writer still routed to the old shard (a stale read) meets the tombstone, not an empty table.
    await expect(
      move.from.db
        .prepare(
          "INSERT INTO events (id, customer_id, type, occurred_at, received_at, properties) VALUES ('evt_stale', ?, 'x', 0, 0, '{}')",
        )
        .bind(id)
        .run(),
    ).rejects.toThrow(/customer_moving/);
  });

  it("answers any write a fence aborted with 503 customer_moving and Retry-After, whatever the route", async () => {
    // What D1 throws when a trigger raises: the route need not know about moves.
    const app = createApp([
      {
        method: "POST",
        path: "/write",
        scope: "public",
        handler: () => {
          throw new Error(
            "D1_ERROR: customer_moving: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_TRIGGER)",
          );
        },
      },
    ]);
    const response = await app.fetch(new Request("http://rebound.test/write", { method: "POST" }), env);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("2");
    expect(((await response.json()) as Json).error.code).toBe("customer_moving");
  });

  it("skips a customer whose send is being delivered, and moves it once the send settles", async () => {
    const { dbs, key, id, old, growing } = await oneMover("cus_busy");
    await old
      .prepare(
        "UPDATE sends SET status = 'sending', attempts = 1, lease_expires_at = ? WHERE customer_id = ? AND step = 'day-3'",
      )
      .bind(T0 + 60_000, id)
      .run();

    const first = await request(growing, "/v1/admin/shards/move", { key, body: { limit: 15 } });
    const skipped = first.body.skipped.find((s: Json) => s.customer_id === id);
    expect(skipped).toMatchObject({ reason: "send_in_flight", to: 4 });
    expect(await fenceOn(old, id)).toBeNull();

    await old
      .prepare("UPDATE sends SET status = 'sent', sent_at = ? WHERE customer_id = ? AND step = 'day-3'")
      .bind(T0, id)
      .run();
    const before = await readCustomerRows(old, id);
    await moveAll(growing, key);
    expect(await readCustomerRows(dbs[4] as D1Database, id)).toEqual(before);
    expect(rowCount(await readCustomerRows(old, id))).toBe(0);
  });

  it("waits while a campaign run on the old shard is unfinished, even one paused with its lease lapsed", async () => {
    const { dbs, key, id, old, growing } = await oneMover("cus_paused");
    // A run paused between pages: still running, its lease already lapsed, customers ahead of its
    // cursor. Moving one of them now could make it miss the occurrence.
    await old
      .prepare(
        `INSERT INTO campaign_runs (id, campaign, occurrence, step, offset_ms, due_at, status, lease_token,
           lease_expires_at, attempts, cursor, stats, claimed_at, updated_at)
         VALUES ('run_paused', 'spring_winback', '2030-01-01T15:00:00.000Z', '0', 0, 0, 'running', NULL, 0, 1,
           '', '{}', 0, 0)`,
      )
      .run();

    const first = await request(growing, "/v1/admin/shards/move", { key, body: { limit: 15 } });
    const skipped = first.body.skipped.find((s: Json) => s.customer_id === id);
    expect(skipped).toMatchObject({ reason: "campaign_running", to: 4 });
    expect(await fenceOn(old, id)).toBeNull();

    await old.prepare("UPDATE campaign_runs SET status = 'done' WHERE id = 'run_paused'").run();
    const before = await readCustomerRows(old, id);
    await moveAll(growing, key);
    expect(await readCustomerRows(dbs[4] as D1Database, id)).toEqual(before);
    expect(rowCount(await readCustomerRows(old, id))).toBe(0);
  });

  it("waits while the new shard's lifecycle scans are ahead of the old shard's", async () => {
    const { dbs, key, id, old, growing } = await oneMover("cus_lifecycle");
    const fresh = dbs[4] as D1Database;
    const mark = async (db: D1Database, value: number) =>
      db
        .prepare(
          `INSERT INTO tick_state (key, value, updated_at) VALUES ('lifecycle', ?1, ?1)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        )
        .bind(value)
        .run();
    // The new shard scanned up to a moment the old one has not: the customer's due moments between
    // the two would be scanned on neither shard if it moved now.
    await mark(old, T0);
    await mark(fresh, T0 + 60 * 60_000);

    const first = await request(growing, "/v1/admin/shards/move", { key, body: { limit: 15 } });
    expect(first.body.skipped.find((s: Json) => s.customer_id === id)).toMatchObject({
      reason: "lifecycle_behind",
      to: 4,
    });
    expect(await fenceOn(old, id)).toBeNull();
    expect(await fenceOn(fresh, id)).toBeNull();

    // The old shards' next ticks catch up.
    for (const db of dbs.slice(0, 4)) await mark(db, T0 + 60 * 60_000);
    const before = await readCustomerRows(old, id);
    await moveAll(growing, key);
    expect(await readCustomerRows(fresh, id)).toEqual(before);
    expect(rowCount(await readCustomerRows(old, id))).toBe(0);
  });

  it("holds a shard's lifecycle watermark while a customer is arriving there", async () => {
    // Databases of their own: the ticks below would seal days the other tests still write to.
    const dbs = [spareDatabase(5), spareDatabase(6), spareDatabase(7)];
    const three = await shardedEnv(dbs);
    const lifecycle = async (db: D1Database) =>
      (await db.prepare("SELECT value FROM tick_state WHERE key = 'lifecycle'").first<{ value: number }>())
        ?.value ?? null;
    const at = T0 + 30 * 24 * 60 * 60_000;
    await runShardedTick(three, at - 5 * 60_000, { ruleset: deployedRuleset() });
    const held = dbs[1] as D1Database;
    const before = await lifecycle(held);
    await held
      .prepare(
        "INSERT INTO customer_fences (customer_id, state, peer, writable, fenced_at, updated_at) VALUES ('cus_in_flight', 'arriving', 0, 0, 0, 0)",
      )
      .run();
    await runShardedTick(three, at, { ruleset: deployedRuleset() });
    expect(await lifecycle(held)).toBe(before);
    for (const db of [dbs[0], dbs[2]] as D1Database[]) expect(await lifecycle(db)).toBe(at);

    await held.prepare("DELETE FROM customer_fences WHERE customer_id = 'cus_in_flight'").run();
    await runShardedTick(three, at + 5 * 60_000, { ruleset: deployedRuleset() });
    expect(await lifecycle(held)).toBe(at + 5 * 60_000);
  });

  it("completes a move interrupted between any two steps, with no row lost or doubled", async () => {
    const dbs = databases();
    const customers = customerIds("cus_crash", 30);
    const four = await shardedEnv(dbs.slice(0, 4));
    const key = await adminKey(dbs);
    await seed(four, key, customers);
    const [a, b, c] = movers(customers) as [string, string, string];
    const before = await snapshot([a, b, c], 4);
    const metricsBefore = await metricTotal();

    // The interrupted pass had installed the fence triggers on every shard before fencing anyone.
    for (const db of dbs) await installFenceTriggers(db);
    // a: fenced on the old shard only; b: copied but not switched; c: switched but not cleaned up.
    await fenceOld(moveOf(a), T0);
    await fenceOld(moveOf(b), T0);
    const { fenceArriving } = await import("../../worker/shards/fences");
    expect(await fenceArriving(moveOf(b).to.db, b, moveOf(b).from.index, T0)).toBe(true);
    expect(await copyAndVerify(moveOf(b))).toMatchObject({ kind: "moved" });
    await fenceOld(moveOf(c), T0);
    expect(await fenceArriving(moveOf(c).to.db, c, moveOf(c).from.index, T0)).toBe(true);
    await copyAndVerify(moveOf(c));
    await copyAndVerify(moveOf(c)); // a rerun of the copy writes the same rows again
    await switchPlacement(moveOf(c), T0);

    const growing = await shardedEnv(dbs, { SHARDS_FROM: "4" });
    await moveAll(growing, key);
    const after = await snapshot([a, b, c], 5);
    expect(after).toEqual(before);
    for (const id of [a, b, c]) expect(rowCount(await readCustomerRows(moveOf(id).from.db, id))).toBe(0);
    expect(await metricTotal()).toBe(metricsBefore);
    // Finishing twice is harmless.
    await finishMove(moveOf(c), T0);
    expect(await snapshot([c], 5)).toEqual(new Map([[c, before.get(c)]]));
  });

  it("keeps erased customers erased on the new shard, whether erased before the pass or during a move", async () => {
    const dbs = databases();
    const customers = customerIds("cus_erased", 30);
    const four = await shardedEnv(dbs.slice(0, 4));
    const key = await adminKey(dbs);
    await seed(four, key, customers);
    const [early, late] = movers(customers) as [string, string];
    // Erased before the move: only the pseudonym is left on the old shard.
    for (const id of [early, late]) {
      const old = moveOf(id).from.db;
      await old.batch([
        ...[...MOVED_TABLES]
          .reverse()
          .filter((t) => t !== "erasures")
          .map((t) =>
            old.prepare(`DELETE FROM ${t} WHERE ${t === "customers" ? "id" : "customer_id"} = ?`).bind(id),
          ),
        old
          .prepare(
            "INSERT INTO erasures (customer_key, erased_at, archive_days, completed_at) VALUES (?, ?, '[]', ?)",
          )
          .bind(await customerKey(id), T0, T0),
      ]);
    }
    // `late` was listed by the tool before its erasure: its move carries the erasure alone.
    expect(await moveCustomer(moveOf(late), T0)).toMatchObject({ kind: "moved", rows: 1 });
    const growing = await shardedEnv(dbs, { SHARDS_FROM: "4" });
    const first = await request(growing, "/v1/admin/shards/move", { key, body: { limit: 1 } });
    expect(first.body.erasures_copied).toBeGreaterThanOrEqual(1);
    await moveAll(growing, key);
    const five = await shardedEnv(dbs, { SHARDS_FROM: undefined });
    for (const id of [early, late]) {
      const erased = await (dbs[4] as D1Database)
        .prepare("SELECT 1 AS yes FROM erasures WHERE customer_key = ?")
        .bind(await customerKey(id))
        .first();
      expect(erased, id).not.toBeNull();
      const resent = await request(five, "/v1/events", { key, body: { events: [eventsOf(id, 0)[0]] } });
      expect(resent.status).toBe(200);
      const stored = await (dbs[4] as D1Database)
        .prepare("SELECT count(*) AS n FROM customers WHERE id = ?")
        .bind(id)
        .first<{ n: number }>();
      expect(stored?.n, id).toBe(0);
    }
  });

  it("runs one pass per old shard side by side, each moving only its shard's customers", async () => {
    const dbs = databases();
    const customers = customerIds("cus_side", 40);
    const four = await shardedEnv(dbs.slice(0, 4));
    const key = await adminKey(dbs);
    await seed(four, key, customers);
    const before = await snapshot(customers, 4);
    const growing = await shardedEnv(dbs, { SHARDS_FROM: "4" });
    const passes = await Promise.all([0, 1, 2, 3].map((shard) => moveAll(growing, key, shard)));
    passes.forEach((calls, shard) => {
      for (const call of calls) for (const moved of call.moved) expect(moved.from).toBe(shard);
    });
    const moved = passes.flat().flatMap((call) => call.moved.map((m: Json) => m.customer_id));
    expect(moved.filter((id: string) => id.startsWith("cus_side")).sort()).toEqual(movers(customers).sort());
    expect(await snapshot(customers, 5)).toEqual(before);

    const first = await request(growing, "/v1/admin/shards/move", { key, body: { limit: 1, shard: 1 } });
    const mixed = await request(growing, "/v1/admin/shards/move", {
      key,
      body: { limit: 1, shard: 2, cursor: first.body.next_cursor ?? "WzEsInoiXQ" },
    });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.details).toEqual([
      { path: "/cursor", message: "belongs to a pass over another shard" },
    ]);
    const newShard = await request(growing, "/v1/admin/shards/move", { key, body: { shard: 4 } });
    expect(newShard.status).toBe(400);
    expect(newShard.body.error.details[0].path).toBe("/shard");
  });

  it("costs the fence triggers one probe of an empty table per written row: measured on ingest", async () => {
    // The triggers exist only during a growth: installed here as a move pass installs them.
    const withFences = await shardedEnv([spareDatabase(5)]);
    const withoutFences = await shardedEnv([spareDatabase(6)]);
    await installFenceTriggers(spareDatabase(5));
    expect(await fenceTriggers(spareDatabase(5))).toBe(30);
    expect(await fenceTriggers(spareDatabase(6))).toBe(0);
    const keys = [await adminKey([spareDatabase(5)]), await adminKey([spareDatabase(6)])];
    const customers = customerIds("cus_cost", 250);
    const emptyBytes = (await spareDatabase(5).prepare("SELECT 1").run()).meta.size_after;
    const events = customers.flatMap((id, i) => eventsOf(id, i)); // 1,000 events
    const totals = [
      { ms: 0, rows_read: 0, rows_written: 0 },
      { ms: 0, rows_read: 0, rows_written: 0 },
    ];
    for (let start = 0; start < events.length; start += 100) {
      const batch = events.slice(start, start + 100);
      for (const [index, deployment] of [withFences, withoutFences].entries()) {
        const began = performance.now();
        const answer = await request(deployment, "/v1/events", {
          key: keys[index] as string,
          body: { events: batch },
        });
        const total = totals[index] as (typeof totals)[number];
        total.ms += performance.now() - began;
        expect(answer.status).toBe(200);
        total.rows_read += answer.body.meta.rows_read;
        total.rows_written += answer.body.meta.rows_written;
      }
    }
    const [fenced, unfenced] = totals as [(typeof totals)[0], (typeof totals)[0]];
    const size = (await spareDatabase(5).prepare("SELECT 1").run()).meta.size_after;
    console.log(
      JSON.stringify({
        events: events.length,
        customers: customers.length,
        with_fence_triggers: fenced,
        without: unfenced,
        database_bytes: { empty: emptyBytes, after: size },
      }),
    );
    // The probes write nothing; what the events store is the same either way.
    expect(fenced.rows_written).toBe(unfenced.rows_written);
  });
  it("costs a deployment that never grows nothing: no fence trigger exists, and a new event reads as before", async () => {
    const db = spareDatabase(7);
    const one = await shardedEnv([db]);
    expect(await fenceTriggers(db)).toBe(0);
    const key = await issueKeyOnEvery([db], ["admin"]);
    const [first] = eventsOf("cus_plain_00", 0);
    /** Rows read by POST /v1/events for one more event of the same customer (the profile exists). */
    const rowsReadFor = async (n: number): Promise<number> => {
      const event = { ...first, id: `evt_plain_${n}`, occurred_at: at(-1) };
      const answer = await request(one, "/v1/events", { key, body: { events: [event] } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body.meta.rows_read;
    };
    expect((await request(one, "/v1/events", { key, body: { events: [first] } })).status).toBe(200);
    const settled = await rowsReadFor(1);
    await installFenceTriggers(db);
    expect(await fenceTriggers(db)).toBe(30);
    const growing = await rowsReadFor(2);
    await removeFenceTriggers(db);
    expect(await fenceTriggers(db)).toBe(0);
    const finished = await rowsReadFor(3);
    console.log(JSON.stringify({ single_event_rows_read: { settled, growing, finished } }));
    // During a growth each written row probes the empty fence table; before and after, nothing.
    expect(growing - settled).toBe(2);
    expect(finished).toBe(settled);
  });

  it("installs the fence triggers on the shards a pass involves before fencing anyone", async () => {
    const dbs = databases();
    const customers = customerIds("cus_trig", 20);
    const four = await shardedEnv(dbs.slice(0, 4));
    const key = await adminKey(dbs);
    await seed(four, key, customers);
    // The databases persist across this file's tests: settle them as a finish would.
    for (const db of dbs) await removeFenceTriggers(db);
    for (const db of dbs) expect(await fenceTriggers(db)).toBe(0);
    const growing = await shardedEnv(dbs, { SHARDS_FROM: "4" });
    // A pass over old shard 1 only involves shard 1 and the new shard 4.
    const first = await request(growing, "/v1/admin/shards/move", { key, body: { limit: 1, shard: 1 } });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(await Promise.all(dbs.map(fenceTriggers))).toEqual([0, 30, 0, 0, 30]);
    await moveAll(growing, key);
    expect(await Promise.all(dbs.map(fenceTriggers))).toEqual([30, 30, 30, 30, 30]);
  });

  it("finishes a growth only once SHARDS_FROM is removed: drops the triggers, tombstones and placements", async () => {
    const dbs = databases();
    const customers = customerIds("cus_fin", 30);
    const four = await shardedEnv(dbs.slice(0, 4));
    const key = await adminKey(dbs);
    await seed(four, key, customers);
    const moving = movers(customers);
    const growing = await shardedEnv(dbs, { SHARDS_FROM: "4" });
    await moveAll(growing, key);

    const invalid = await request(growing, "/v1/admin/shards/finish", {
      key,
      body: { shard: -1, all: true },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details.map((d: Json) => d.path)).toEqual(["/all", "/shard"]);
    const early = await request(growing, "/v1/admin/shards/finish", { key, body: {} });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("growth_in_progress");
    expect(early.body.error.message).toMatch(/SHARDS_FROM/);
    expect(await Promise.all(dbs.map(fenceTriggers))).toEqual([30, 30, 30, 30, 30]);

    const five = await shardedEnv(dbs, { SHARDS_FROM: undefined });
    // A move left half-way (a 'leaving' fence) must be completed first.
    await (dbs[2] as D1Database)
      .prepare(
        "INSERT INTO customer_fences (customer_id, state, peer, writable, fenced_at, updated_at) VALUES ('cus_fin_half', 'leaving', 4, 0, 0, 0)",
      )
      .run();
    const halfway = await request(five, "/v1/admin/shards/finish", { key, body: {} });
    expect(halfway.status).toBe(409);
    expect(halfway.body.error.message).toMatch(/shard 2/);
    await (dbs[2] as D1Database)
      .prepare("DELETE FROM customer_fences WHERE customer_id = 'cus_fin_half'")
      .run();

    // The databases persist across this file's tests: earlier growths left tombstones too.
    const tombstonesBefore: number[] = [];
    for (const db of dbs) {
      const row = await db
        .prepare("SELECT count(*) AS n FROM customer_fences WHERE state = 'moved'")
        .first<{ n: number }>();
      tombstonesBefore.push(row?.n ?? 0);
    }
    for (const id of moving) expect(await fenceOn(moveOf(id).from.db, id), id).toBe("moved");
    const placementsBefore = await env.DB.prepare("SELECT count(*) AS n FROM customer_placements").first<{
      n: number;
    }>();
    expect(placementsBefore?.n).toBeGreaterThanOrEqual(moving.length);

    const finished = await request(five, "/v1/admin/shards/finish", { key, body: {} });
    expect(finished.status, JSON.stringify(finished.body)).toBe(200);
    expect(finished.body.next_shard).toBeNull();
    expect(finished.body.shards.map((s: Json) => s.fence_triggers)).toEqual([30, 30, 30, 30, 30]);
    expect(finished.body.shards.map((s: Json) => s.tombstones)).toEqual(tombstonesBefore);
    expect(finished.body.shards.map((s: Json) => s.placements)).toEqual([placementsBefore?.n, 0, 0, 0, 0]);
    for (const db of dbs) {
      expect(await fenceTriggers(db)).toBe(0);
      const fences = await db.prepare("SELECT count(*) AS n FROM customer_fences").first<{ n: number }>();
      expect(fences?.n).toBe(0);
    }
    const placements = await env.DB.prepare("SELECT count(*) AS n FROM customer_placements").first<{
      n: number;
    }>();
    expect(placements?.n).toBe(0);

    // A moved customer's write lands once on its new shard, with no trigger in the way.
    const id = moving[0] as string;
    const later = { ...eventsOf(id, 0)[2], id: `evt_${id}_after`, occurred_at: at(0) };
    const written = await request(five, "/v1/events", { key, body: { events: [later] } });
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    const stored = await (dbs[placedShard(id, 5)] as D1Database)
      .prepare("SELECT count(*) AS n FROM events WHERE id = ?")
      .bind(later.id)
      .first<{ n: number }>();
    expect(stored?.n).toBe(1);

    // Finishing again (here from shard 3, as a `next_shard` would say) finds nothing left.
    const again = await request(five, "/v1/admin/shards/finish", { key, body: { shard: 3 } });
    expect(again.status).toBe(200);
    expect(again.body.shards.map((s: Json) => s.index)).toEqual([3, 4]);
    for (const shard of again.body.shards)
      expect(shard).toMatchObject({ fence_triggers: 0, tombstones: 0, placements: 0 });
  });
});
