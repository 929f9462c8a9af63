// Set-up for the sharded tick tests: the same customers on a four-shard deployment (DB, DB_1 … DB_3,
// each customer on the shard its id hashes to) and on a one-database deployment (DB_4), the
// rebound-ticks producer replaced by a recorder so a test sees every message the dispatcher sends and
// runs the consumer on them itself, and a D1 handle that fails on demand. Customers are made once per
// file through real ingest (into DB) and copied row for row onto both deployments before each test.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inHoldout } from "../../dsl/runtime/bucket";
import { placedShard } from "../../worker/db/shards";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import type { Env } from "../../worker/env";
import type { SendRow } from "../../worker/sends/types";
import { type ConsumeUnitsOptions, consumeTickUnits } from "../../worker/tick/consume-units";
import { dispatchTick } from "../../worker/tick/dispatch";
import type { TickUnitMessage } from "../../worker/tick/units";
import { event, ingest, issueKey } from "./helpers";
import { shardedEnv, spareDatabase } from "./shard-env";
import { DAY, isoOf, MINUTE } from "./tick-fixtures";

/** Tuesday 2031-03-04 10:00 in New York: an occurrence of spring_winback ("0 10 * * TUE"). */
export const OCCURRENCE = Date.parse("2031-03-04T15:00:00Z");
export const OCCURRENCE_KEY = "2031-03-04T15:00:00.000Z";
/** The first tick after the occurrence, and the one after its step 1 (five days later) came due. */
export const TICK_0 = OCCURRENCE + MINUTE;
export const TICK_1 = OCCURRENCE + 5 * DAY + MINUTE;

/** Customers whose rows the tests copy; every table a tick reads of them. */
const CUSTOMER_TABLES = ["customers", "events", "event_days"] as const;
/** Everything a tick writes, emptied on every database before each test. */
const TICK_TABLES = [
  "campaign_runs",
  "campaign_exclusions",
  "tick_state",
  "tick_units",
  "dunning_cases",
  "outbox",
  "sends",
  "redemptions",
  "decisions",
  "metric_days",
  ...CUSTOMER_TABLES,
] as const;

type Row = Record<string, unknown>;

/** 120 churned customers (canceled 14 … 173 days before the occurrence), 20 active, 4 outside the audience. */
export function customerIds(): { churned: string[]; active: string[]; outsiders: string[] } {
  return {
    churned: Array.from({ length: 120 }, (_, i) => `cus_s${String(i).padStart(3, "0")}`),
    active: Array.from({ length: 20 }, (_, i) => `cus_act${i}`),
    outsiders: ["cus_x_recent", "cus_x_old", "cus_x_shut", "cus_x_other"],
  };
}

/** The churned customers spring_winback's holdout leaves out. */
export function heldOut(): string[] {
  return customerIds().churned.filter((id) => inHoldout("spring_winback_copy", id, 10));
}

let snapshot: Map<string, Row[]> | null = null;
let adminKeys: Row[] = [];

/**
 * Ingests the customers once (into DB) and keeps their rows. Run in beforeAll. Returns an admin key
 * both deployments accept.
 */
export async function makeCustomers(): Promise<string> {
  const key = await issueKey(["events:write"]);
  const admin = await issueKey(["admin"]);
  const since = OCCURRENCE - 365 * DAY;
  const reasons = ["too_expensive", "unused", "hard_to_use", "switched_to_competitor", "missing_features"];
  const { churned, active } = customerIds();
  const started = (id: string) => [
    event("customer.updated", id, isoOf(since), { email: `${id}@example.com`, first_name: "Sam" }),
    event("subscription.started", id, isoOf(since), { plan: "pro", mrr: 4900, currency: "USD" }),
  ];
  const canceled = (id: string, daysAgo: number, reason: string) =>
    event("subscription.canceled", id, isoOf(OCCURRENCE - daysAgo * DAY), { reason });
  const all = [
    ...churned.flatMap((id, i) => [
      ...started(id),
      canceled(id, 14 + ((i * 7) % 160), reasons[i % reasons.length]!),
    ]),
    ...active.flatMap(started),
    ...started("cus_x_recent"),
    canceled("cus_x_recent", 5, "unused"),
    ...started("cus_x_old"),
    canceled("cus_x_old", 200, "unused"),
    ...started("cus_x_shut"),
    canceled("cus_x_shut", 30, "shutting_down"),
    ...started("cus_x_other"),
    canceled("cus_x_other", 30, "other"),
  ];
  for (let start = 0; start < all.length; start += 450) await ingest(key, all.slice(start, start + 450));
  snapshot = new Map();
  for (const table of CUSTOMER_TABLES)
    snapshot.set(table, (await env.DB.prepare(`SELECT * FROM ${table}`).all<Row>()).results);
  adminKeys = (await env.DB.prepare("SELECT * FROM api_keys").all<Row>()).results;
  return admin;
}

/** A queue producer that keeps what it is sent. */
export class RecordingQueue implements Queue<unknown> {
  readonly bodies: unknown[] = [];

  async metrics(): Promise<QueueMetrics> {
    return { backlogCount: this.bodies.length, backlogBytes: 0 };
  }

  async send(body: unknown): Promise<QueueSendResponse> {
    this.bodies.push(body);
    return { metadata: { metrics: await this.metrics() } };
  }

  async sendBatch(messages: Iterable<MessageSendRequest<unknown>>): Promise<QueueSendBatchResponse> {
    for (const message of messages) this.bodies.push(message.body);
    return { metadata: { metrics: await this.metrics() } };
  }

  /** What was sent, as rebound-ticks messages, and forgets it. */
  take(): TickUnitMessage[] {
    return this.bodies.splice(0) as TickUnitMessage[];
  }
}

export interface Deployments {
  /** DB, DB_1, DB_2, DB_3; its rebound-ticks producer is `ticks`. */
  four: Env;
  /** DB_4 alone. */
  one: Env;
  ticks: RecordingQueue;
  /** Each shard's database of `four`, by index. */
  shards: D1Database[];
}

/**
 * Both deployments with the customers placed: every one on `one`, each on its own shard of `four`.
 * Every tick table is emptied first. `overrides` replaces bindings of `four` (a failing database).
 */
export async function deployments(): Promise<Deployments> {
  if (!snapshot) throw new Error("call makeCustomers() in beforeAll");
  const shards = [env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3)];
  const ticks = new RecordingQueue();
  const four = await shardedEnv(shards, { TICKS: ticks, SENDS: new RecordingQueue() });
  const one = await shardedEnv([spareDatabase(4)], { SENDS: new RecordingQueue() });
  for (const db of [...shards, one.DB])
    await db.batch(TICK_TABLES.map((table) => db.prepare(`DELETE FROM ${table}`)));
  for (const [table, rows] of snapshot) {
    await copyRows(one.DB, table, rows);
    for (const [index, db] of shards.entries())
      await copyRows(
        db,
        table,
        rows.filter((row) => placedShard(String(row.customer_id ?? row.id), 4) === index),
      );
  }
  await one.DB.prepare("DELETE FROM api_keys").run();
  await copyRows(one.DB, "api_keys", adminKeys);
  return { four, one, ticks, shards };
}

async function copyRows(db: D1Database, table: string, rows: readonly Row[]): Promise<void> {
  const statements = rows.map((row) => {
    const columns = Object.keys(row);
    return db
      .prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
      .bind(...columns.map((column) => row[column] ?? null));
  });
  for (let start = 0; start < statements.length; start += 200)
    await db.batch(statements.slice(start, start + 200));
}

/** Dispatches the tick at `at` on `four` (what scheduled() does there) and returns its messages. */
export async function dispatch(deployment: Deployments, at: number): Promise<TickUnitMessage[]> {
  await dispatchTick(deployment.four, at, { ruleset: deployedRuleset(), queue: deployment.ticks });
  return deployment.ticks.take();
}

/**
 * Runs the rebound-ticks consumer on `messages` as one batch, each delivered for the `attempts`-th
 * time, and returns what it decided for each and what the queue was told.
 */
export async function consume(
  deployment: Env,
  messages: readonly TickUnitMessage[],
  options: { attempts?: number } & Partial<ConsumeUnitsOptions> = {},
) {
  const batch = createMessageBatch(
    "rebound-ticks",
    messages.map((body, index) => ({
      id: `unit_${index}_${Math.random().toString(36).slice(2)}`,
      timestamp: new Date(body.at),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  const outcomes = await consumeTickUnits(batch, deployment, {
    ruleset: deployedRuleset(),
    ...(options.queryBudget === undefined ? {} : { queryBudget: options.queryBudget }),
    ...(options.audiencePageSize === undefined ? {} : { audiencePageSize: options.audiencePageSize }),
  });
  return { outcomes, queue: await getQueueResult(batch, ctx) };
}

/** Runs each message in a batch of its own (as the deployed queue does: max_batch_size = 1). */
export async function consumeEach(
  deployment: Env,
  messages: readonly TickUnitMessage[],
  options: { attempts?: number } & Partial<ConsumeUnitsOptions> = {},
) {
  const results = await Promise.all(messages.map((message) => consume(deployment, [message], options)));
  return results.map((result) => result.outcomes[0]!);
}

/** A send as the tests compare them: programme, occurrence, step and customer. */
export type SendKey = string;

/** Every send of a deployment's databases, as sorted keys (a key twice would be a message sent twice). */
export async function sendKeys(databases: readonly D1Database[]): Promise<SendKey[]> {
  const keys: SendKey[] = [];
  for (const db of databases) {
    const { results } = await db
      .prepare("SELECT programme_kind, programme_key, occurrence, step, customer_id FROM sends")
      .all<Pick<SendRow, "programme_kind" | "programme_key" | "occurrence" | "step" | "customer_id">>();
    for (const send of results)
      keys.push(
        `${send.programme_kind}/${send.programme_key}/${send.occurrence}/${send.step}/${send.customer_id}`,
      );
  }
  return keys.sort();
}

/** Each shard's sends are its own customers' only. */
export async function misplacedSends(shards: readonly D1Database[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const [index, db] of shards.entries()) {
    const { results } = await db.prepare("SELECT customer_id FROM sends").all<{ customer_id: string }>();
    for (const { customer_id } of results)
      if (placedShard(customer_id, 4) !== index) wrong.push(`${customer_id} on shard ${index}`);
  }
  return wrong;
}

/** Decisions per customer across databases (a step's offer is one decision per customer). */
export async function decisionCounts(databases: readonly D1Database[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const db of databases) {
    const { results } = await db
      .prepare("SELECT customer_id, count(*) AS n FROM decisions GROUP BY customer_id")
      .all<{ customer_id: string; n: number }>();
    for (const row of results) counts.set(row.customer_id, (counts.get(row.customer_id) ?? 0) + row.n);
  }
  return counts;
}

/** The RunStats of every campaign run, summed per (campaign, occurrence, step). */
export async function runTotals(
  databases: readonly D1Database[],
): Promise<Record<string, Record<string, number>>> {
  const totals: Record<string, Record<string, number>> = {};
  for (const db of databases) {
    const { results } = await db
      .prepare("SELECT campaign, occurrence, step, status, stats FROM campaign_runs")
      .all<{ campaign: string; occurrence: string; step: string; status: string; stats: string }>();
    for (const run of results) {
      const key = `${run.campaign}/${run.occurrence}/${run.step}/${run.status}`;
      const sums = totals[key] ?? {};
      totals[key] = sums;
      const stats = JSON.parse(run.stats) as Record<string, number>;
      for (const field of ["audience", "sent", "holdout", "frequency_capped", "deferred", "no_offer"])
        sums[field] = (sums[field] ?? 0) + (stats[field] ?? 0);
    }
  }
  return totals;
}

/**
 * A D1 database that fails every statement after the first `healthyStatements` (a batch counts each
 * of its statements): a shard whose database goes away mid-unit, or at once with 0.
 */
export class FailingD1 implements D1Database {
  statements = 0;

  constructor(
    readonly inner: D1Database,
    private readonly healthyStatements: number,
  ) {}

  /** Counts one statement, throwing once the healthy ones are used up. */
  spend(count = 1): void {
    this.statements += count;
    if (this.statements > this.healthyStatements)
      throw new Error("D1_ERROR: injected failure: the shard is down");
  }

  prepare(query: string): D1PreparedStatement {
    return new FailingStatement(this.inner.prepare(query), this);
  }

  async batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    this.spend(statements.length);
    return this.inner.batch<T>(
      statements.map((statement) => (statement instanceof FailingStatement ? statement.inner : statement)),
    );
  }

  exec(query: string): Promise<D1ExecResult> {
    this.spend();
    return this.inner.exec(query);
  }

  withSession(): D1DatabaseSession {
    throw new Error("not used by the tick");
  }

  dump(): Promise<ArrayBuffer> {
    throw new Error("not used by the tick");
  }
}

class FailingStatement implements D1PreparedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly db: FailingD1,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new FailingStatement(this.inner.bind(...values), this.db);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  async first<T>(colName?: string): Promise<T | null> {
    this.db.spend();
    return colName === undefined ? this.inner.first<T>() : this.inner.first<T>(colName);
  }

  async run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    this.db.spend();
    return this.inner.run<T>();
  }

  async all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    this.db.spend();
    return this.inner.all<T>();
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  async raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[] | [string[], ...T[]]> {
    this.db.spend();
    return options?.columnNames === true
      ? this.inner.raw<T>({ columnNames: true })
      : this.inner.raw<T>({ columnNames: false });
  }
}

/** `four` with shard `index`'s database replaced (a failing one). */
export function withShardDatabase(four: Env, index: number, db: D1Database): Env {
  return { ...four, [index === 0 ? "DB" : `DB_${index}`]: db } as Env;
}
