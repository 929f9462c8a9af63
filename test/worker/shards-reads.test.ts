// Reads across shards: the same customers, events, ticks and decisions on a 4-shard deployment and on
// one database, then every admin list, metrics figure and list, and `rebound plan`'s pages compared.
// Lists are walked with small pages to the end following `next_cursor` (no repeat, no gap, in the
// list's order on 4 shards too), figures must be equal, and the sharded answers say what they cost
// and how many shards they read. Data reaches each shard through the real one-database paths
// (POST /v1/events, POST /v1/decisions, the tick, the send consumer) on the customer's own shard, so
// this file depends on nothing but the reads it tests.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { createApp } from "../../worker/api/app";
import { ROUTES } from "../../worker/api/route-table";
import { compareKeys, compareText, type KeyPart, mergePages } from "../../worker/db/shard-reads";
import { allShards, placedShard, shardOfSlot } from "../../worker/db/shards";
import type { Env } from "../../worker/env";
import { ruleset as deployedIr } from "../../worker/generated/ruleset";
import { idSlot } from "../../worker/ids";
import { consumeSends } from "../../worker/sends/consume";
import { runTick } from "../../worker/tick/run-tick";
import { databasesOf as everyDatabaseOf, issueKeyOnEvery, shardedEnv, spareDatabase } from "./shard-env";
import { at, DAY, HOUR, isoOf, MINUTE } from "./tick-fixtures";

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely and assert on them
type Json = any;

/** The deployed rules, reporting in UTC. */
function rulesOf(edit: (ir: RulesetIR) => void = () => {}) {
  const ir = structuredClone(deployedIr) as RulesetIR;
  ir.metrics = { timezone: "UTC", winbackWindowMs: 90 * DAY };
  edit(ir);
  return { ir, ruleset: loadRuleset({ ...ir, version: `${ir.version}+shards-reads` }) };
}
const { ruleset: rules } = rulesOf();
/** A proposed change for the plan: a shorter dunning cadence. */
const proposed = rulesOf((ir) => {
  for (const cadence of ir.dunning) cadence.steps = cadence.steps.filter((_, n) => n % 2 === 0);
}).ir;

// spring_winback's Tuesday 10:00 New York occurrence of 2031-03-04 is due at 15:00 UTC.
const OCCURRENCE = at("2031-03-04T15:00:00Z");
const RUN_AT = OCCURRENCE + MINUTE;
const LATER = RUN_AT + 3 * DAY;
const SINCE = OCCURRENCE - 365 * DAY;

const CUSTOMERS = Array.from({ length: 40 }, (_, i) => `cus_s${String(i).padStart(2, "0")}`);

/** Each customer's history: subscribers; some canceled a month ago (campaign), a week ago (win-back); some failed payments. */
function historyOf(index: number, id: string): [string, number, Record<string, unknown>][] {
  const items: [string, number, Record<string, unknown>][] = [
    ["customer.updated", SINCE, { email: `${id}@example.com`, first_name: "Sam" }],
    ["subscription.started", SINCE, { plan: "pro", mrr: index % 2 === 0 ? 4900 : 9900, currency: "USD" }],
  ];
  if (index % 3 === 0)
    items.push(["subscription.canceled", OCCURRENCE - 30 * DAY, { reason: "too_expensive" }]);
  if (index % 3 === 1 && index % 5 !== 2)
    items.push(["subscription.canceled", RUN_AT - 7 * DAY - 12 * HOUR, { reason: "hard_to_use" }]);
  if (index % 5 === 2) {
    items.push([
      "payment.failed",
      RUN_AT - 2 * DAY,
      {
        invoice_id: `in_${id}`,
        amount: 4900,
        currency: "USD",
        card_last4: "4242",
        update_url: "https://pay.example/u",
      },
    ]);
  }
  return items;
}

/** What happens after the first tick: reactivations, a recovered payment. */
function laterOf(index: number, id: string): [string, number, Record<string, unknown>][] {
  const items: [string, number, Record<string, unknown>][] = [];
  if (index % 3 === 0 && index % 2 === 0)
    items.push(["subscription.reactivated", RUN_AT + 2 * DAY, { plan: "pro", mrr: 4900 }]);
  if (index % 10 === 2)
    items.push([
      "payment.succeeded",
      RUN_AT + DAY,
      { invoice_id: `in_${id}`, amount: 4900, currency: "USD" },
    ]);
  return items;
}

let four: Env;
let one: Env;
let key = "";

/** One database of a deployment, seen as a one-database deployment: where a customer's writes go. */
function asOneDatabase(deployment: Env, db: D1Database): Env {
  const cleared: Record<string, undefined> = {};
  for (let n = 1; n <= 7; n += 1) cleared[`DB_${n}`] = undefined;
  return { ...deployment, ...cleared, DB: db, SHARDS: "1" } as Env;
}

function databasesOf(deployment: Env): Env[] {
  return allShards(deployment).map((shard) => asOneDatabase(deployment, shard.db));
}

function homeOf(deployment: Env, customerId: string): Env {
  const shards = allShards(deployment);
  return asOneDatabase(deployment, shards[placedShard(customerId, shards.length)]!.db);
}

/** An admin key written into every database of the deployments (the key routes do so for real). */
const keyOnEveryShard = (deployments: readonly Env[]) =>
  issueKeyOnEvery(everyDatabaseOf(...deployments), ["admin"]);

async function api(deployment: Env, path: string, options: { body?: unknown; now?: number } = {}) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    "content-type": "application/json",
  };
  if (options.now !== undefined) headers["x-rebound-now"] = isoOf(options.now);
  const response = await createApp(ROUTES, { ruleset: () => rules }).fetch(
    new Request(`http://rebound.test${path}`, {
      method: options.body === undefined ? "GET" : "POST",
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    }),
    deployment,
  );
  return { status: response.status, body: (await response.json()) as Json };
}

async function ingestEach(
  deployment: Env,
  history: (index: number, id: string) => [string, number, Record<string, unknown>][],
) {
  for (const [index, id] of CUSTOMERS.entries()) {
    const items = history(index, id);
    if (items.length === 0) continue;
    // One batch per customer, on the customer's database.
    const answer = await api(homeOf(deployment, id), "/v1/events", {
      body: {
        events: items.map(([type, when, properties], n) => ({
          id: `evt_${id}_${type}_${n}_${when}`,
          type,
          customer_id: id,
          occurred_at: isoOf(when),
          properties,
        })),
      },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }
}

/** Delivers every queued send of each database through the real consumer at `now`. */
async function consumeAll(deployment: Env, now: number) {
  for (const view of databasesOf(deployment)) {
    const { results } = await view.DB.prepare(
      "SELECT id FROM sends WHERE status = 'queued' ORDER BY id",
    ).all<{
      id: string;
    }>();
    if (results.length === 0) continue;
    const batch = createMessageBatch(
      "rebound-sends",
      results.map(({ id }) => ({
        id: `m_${id}`,
        timestamp: new Date(now),
        attempts: 1,
        body: { v: 1, sendId: id },
      })),
    );
    await consumeSends(batch, view, { clock: () => now, ruleset: rules });
    await getQueueResult(batch, createExecutionContext());
  }
}

async function build(deployment: Env) {
  await ingestEach(deployment, historyOf);
  for (const view of databasesOf(deployment)) await runTick(view, RUN_AT, { ruleset: rules });
  await consumeAll(deployment, RUN_AT + HOUR);
  // Offers asked for in the cancel flow, a day after the run.
  for (const [index, id] of CUSTOMERS.entries()) {
    if (index % 4 !== 1) continue;
    const answer = await api(homeOf(deployment, id), "/v1/decisions", {
      body: { customer_id: id, context: "cancel_flow", reason: "too_expensive" },
      now: RUN_AT + DAY + index * MINUTE,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }
  await ingestEach(deployment, laterOf);
  for (const view of databasesOf(deployment)) await runTick(view, LATER, { ruleset: rules });
}

beforeAll(async () => {
  four = await shardedEnv([env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3)]);
  one = await shardedEnv([spareDatabase(4)]);
  key = await keyOnEveryShard([four, one]);
  expect(new Set(CUSTOMERS.map((id) => placedShard(id, 4))).size).toBe(4);
  await build(four);
  await build(one);
}, 120_000);

/** Every item of a list, following `next_cursor` with pages of `limit`; each page checked on the way. */
async function walk(deployment: Env, path: string, field: string, limit: number): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page += 1) {
    const separator = path.includes("?") ? "&" : "?";
    const answer = await api(
      deployment,
      `${path}${separator}limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      { now: LATER },
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body[field].length).toBeLessThanOrEqual(limit);
    if (deployment === four) {
      const cost = answer.body.meta ?? answer.body.cost;
      expect(cost.shards).toBe(4);
      expect(cost.rows_read).toBeGreaterThanOrEqual(0);
    }
    items.push(...answer.body[field]);
    cursor = answer.body.next_cursor;
    if (cursor === null) return items;
  }
  throw new Error(`${path} never ended`);
}

/** Asserts items are in the order of `keyOf` (ascending or descending) and no key repeats. */
function expectOrdered(items: readonly Json[], keyOf: (item: Json) => KeyPart[], order: "asc" | "desc") {
  for (let n = 1; n < items.length; n += 1) {
    const sign = compareKeys(keyOf(items[n - 1]), keyOf(items[n]));
    expect(order === "asc" ? sign : -sign, JSON.stringify([items[n - 1], items[n]])).toBeLessThan(0);
  }
}

/**
 * Items without the fields that differ per deployment (ids made independently, and the offer codes,
 * decision ids, quoted inside messages), sorted.
 */
function comparable(items: readonly Json[], drop: readonly string[]): string[] {
  return items
    .map((item) =>
      JSON.stringify(
        Object.fromEntries(Object.entries(item).filter(([name]) => !drop.includes(name))),
      ).replace(/(dec|snd)_[0-9a-f]{28}/g, "$1_*"),
    )
    .sort();
}

const time = (text: string | null) => (text === null ? 0 : Date.parse(text));

describe("the keyset merge", () => {
  it("orders text as SQLite does, astral characters included, so a merged page matches ORDER BY", async () => {
    const texts = ["b", "a", "\u{1F600}x", "\uFFFDy", "\uE000", "ab", "a\u{10000}", "a\uFFFF", "", "Z", "é"];
    const { results } = await env.DB.prepare("SELECT value FROM json_each(?1) ORDER BY value")
      .bind(JSON.stringify(texts))
      .all<{ value: string }>();
    const merged = mergePages(
      [
        { rows: texts.slice(0, 5).sort(compareText), more: false },
        { rows: texts.slice(5).sort(compareText), more: false },
      ],
      texts.length,
      (text) => [text],
      "asc",
    );
    expect(merged.rows).toEqual(results.map((row) => row.value));
    expect(merged.more).toBe(false);
    // A shard with more rows than the page makes the merged page say there is more.
    const cut = mergePages(
      [
        { rows: ["a", "c"], more: true },
        { rows: ["b"], more: false },
      ],
      2,
      (t) => [t],
      "asc",
    );
    expect(cut).toEqual({ rows: ["a", "b"], more: true });
  });
});

describe("admin lists across shards", () => {
  it("pages GET /v1/sends newest first over every shard, every send once", async () => {
    const [sharded, single] = await Promise.all([
      walk(four, "/v1/sends", "sends", 4),
      walk(one, "/v1/sends", "sends", 4),
    ]);
    expect(sharded.length).toBeGreaterThan(10);
    expectOrdered(sharded, (send) => [send.id], "desc");
    let stored = 0;
    for (const view of databasesOf(four))
      stored += (await view.DB.prepare("SELECT count(*) AS n FROM sends").first<{ n: number }>())!.n;
    expect(sharded).toHaveLength(stored);
    const drop = [
      "id",
      "created_at",
      "updated_at",
      "enqueued_at",
      "not_before",
      "next_attempt_at",
      "sent_at",
      "provider_message_id",
      "last_error",
    ];
    expect(comparable(sharded, drop)).toEqual(comparable(single, drop));
    // A status filter merges the same way.
    const queued = await walk(four, "/v1/sends?status=sent,queued", "sends", 3);
    expect(queued.map((send) => send.id)).toEqual(
      sharded.filter((send) => send.status === "sent" || send.status === "queued").map((send) => send.id),
    );
  });

  it("reads one customer's sends on that customer's shard only, and a send by id on its shard", async () => {
    const customer = CUSTOMERS.find((id, index) => index % 3 === 0 && placedShard(id, 4) !== 0)!;
    const answer = await api(four, `/v1/sends?customer_id=${customer}`);
    expect(answer.body.meta.shards).toBe(1);
    expect(answer.body.sends.length).toBeGreaterThan(0);
    for (const send of answer.body.sends) {
      expect(send.customer_id).toBe(customer);
      const byId = await api(four, `/v1/sends/${send.id}`);
      expect(byId.status).toBe(200);
      expect(byId.body.send).toEqual(send);
    }
    const retry = await api(four, `/v1/sends/${answer.body.sends[0].id}/retry`, { body: {} });
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe("send_not_dead");
    const missing = await api(four, `/v1/sends/snd_${"0".repeat(28)}`);
    expect(missing.status).toBe(404);

    // A dead send is retried on its own shard (and the same send on one database, so both stay alike).
    const victim = answer.body.sends[0];
    for (const deployment of [four, one]) {
      const home = homeOf(deployment, customer).DB;
      await home
        .prepare(
          "UPDATE sends SET status = 'dead', last_error = 'HTTP 500' WHERE customer_id = ?1 AND programme_kind = ?2 AND programme_key = ?3 AND occurrence = ?4 AND step = ?5",
        )
        .bind(
          customer,
          victim.programme.kind,
          victim.programme.key,
          victim.programme.occurrence,
          victim.programme.step,
        )
        .run();
      const id = (await api(deployment, `/v1/sends?customer_id=${customer}&status=dead`)).body.sends[0].id;
      const retried = await api(deployment, `/v1/sends/${id}/retry`, { body: {} });
      expect(retried.status, JSON.stringify(retried.body)).toBe(200);
      expect(retried.body.send).toMatchObject({ id, status: "queued" });
      const stored = await home
        .prepare("SELECT status FROM sends WHERE id = ?1")
        .bind(id)
        .first<{ status: string }>();
      expect(stored?.status).toBe("queued");
    }
  });

  it("finds a send made before sharding, whose id names no shard, on whichever shard holds it", async () => {
    const customer = CUSTOMERS.find((id, index) => index % 5 === 2 && placedShard(id, 4) !== 0)!;
    const home = homeOf(four, customer).DB;
    const send = await home
      .prepare("SELECT id FROM sends WHERE customer_id = ?1 AND status = 'sent' ORDER BY id LIMIT 1")
      .bind(customer)
      .first<{ id: string }>();
    // Random digits where the slot goes: digits of a slot another shard holds.
    const elsewhere = Array.from({ length: 4096 }, (_, slot) => slot).find(
      (slot) => shardOfSlot(slot, 4) !== placedShard(customer, 4),
    )!;
    const start = "snd_".length + 12 + 4;
    const legacy = `${send!.id.slice(0, start)}${elsewhere.toString(16).padStart(3, "0")}${send!.id.slice(start + 3)}`;
    expect(idSlot(legacy)).toBe(elsewhere);
    await home.prepare("UPDATE outbox SET id = ?2 WHERE id = ?1").bind(send!.id, legacy).run();
    await home.prepare("UPDATE sends SET id = ?2 WHERE id = ?1").bind(send!.id, legacy).run();
    const found = await api(four, `/v1/sends/${legacy}`);
    expect(found.status).toBe(200);
    expect(found.body.send).toMatchObject({ id: legacy, customer_id: customer });
    // Put it back: the lists below compare both deployments.
    await home.prepare("UPDATE sends SET id = ?2 WHERE id = ?1").bind(legacy, send!.id).run();
    await home.prepare("UPDATE outbox SET id = ?2 WHERE id = ?1").bind(legacy, send!.id).run();
  });

  it("pages GET /v1/outbox over every shard like one database", async () => {
    const [sharded, single] = await Promise.all([
      walk(four, "/v1/outbox", "messages", 3),
      walk(one, "/v1/outbox", "messages", 3),
    ]);
    expect(sharded.length).toBeGreaterThan(0);
    expectOrdered(sharded, (message) => [message.send_id], "desc");
    expect(comparable(sharded, ["send_id"])).toEqual(comparable(single, ["send_id"]));
  });

  it("answers GET /v1/admin/dunning-cases in the same order as one database", async () => {
    const [sharded, single] = await Promise.all(
      [four, one].map((deployment) => api(deployment, "/v1/admin/dunning-cases?limit=200")),
    );
    expect(sharded!.body.cases.length).toBeGreaterThan(2);
    expect(sharded!.body.cases).toEqual(single!.body.cases);
    expect(sharded!.body.meta.shards).toBe(4);
    const firstThree = await api(four, "/v1/admin/dunning-cases?limit=3");
    expect(firstThree.body.cases).toEqual(single!.body.cases.slice(0, 3));
  });

  it("answers each campaign run once, its parts on every shard added up", async () => {
    const sharded = await walk(four, "/v1/admin/campaign-runs", "runs", 1);
    const single = (await api(one, "/v1/admin/campaign-runs?limit=200")).body.runs;
    expect(sharded.length).toBeGreaterThan(0);
    expectOrdered(sharded, (run) => [time(run.due_at), run.campaign, run.occurrence, run.step], "desc");
    const summary = (runs: Json[]) =>
      runs
        .map((run) => {
          const { rows_read: _, pages: __, ...stats } = run.stats;
          return JSON.stringify([run.campaign, run.occurrence, run.step, run.due_at, run.status, stats]);
        })
        .sort();
    expect(summary(sharded)).toEqual(summary(single));
    expect(sharded.some((run) => run.shards > 1)).toBe(true);
    const done = await walk(four, "/v1/admin/campaign-runs?status=done", "runs", 2);
    expect(summary(done)).toEqual(summary(single.filter((run: Json) => run.status === "done")));
  });
});

describe("metrics across shards", () => {
  const FIGURES = [
    "/v1/metrics/retention?from=2030-01-01&to=2031-06-30",
    "/v1/metrics/retention?from=2031-02-01&to=2031-03-31&interval=week",
    "/v1/metrics/cancellations?from=2030-06-01&to=2031-06-30",
    "/v1/metrics/offers?from=2031-03-01&to=2031-03-31&by=offer",
    "/v1/metrics/offers?from=2031-03-01&to=2031-03-31&by=reason&interval=day",
    "/v1/metrics/dunning?from=2031-02-01&to=2031-03-31&interval=week",
    "/v1/metrics/winback?from=2031-02-01&to=2031-03-31",
    "/v1/metrics/campaigns?from=2031-03-01&to=2031-03-31",
  ];

  it.each(FIGURES)("%s gives the same figures, its cost summed over 4 shards", async (path) => {
    const [sharded, single] = await Promise.all(
      [four, one].map((deployment) => api(deployment, path, { now: LATER })),
    );
    expect(sharded!.status, JSON.stringify(sharded!.body)).toBe(200);
    const { cost, ...figures } = sharded!.body;
    const { cost: singleCost, ...singleFigures } = single!.body;
    expect(figures).toEqual(singleFigures);
    expect(cost.shards).toBe(4);
    expect(cost.queries).toBeGreaterThanOrEqual(4);
    expect(singleCost.shards).toBeUndefined();
  });

  it("has figures worth comparing", async () => {
    const retention = (await api(four, "/v1/metrics/retention?from=2030-01-01&to=2031-06-30", { now: LATER }))
      .body;
    expect(retention.total.customers.lost).toBeGreaterThan(5);
    const campaigns = (await api(four, "/v1/metrics/campaigns?from=2031-03-01&to=2031-03-31", { now: LATER }))
      .body;
    expect(campaigns.campaigns[0].occurrences).toBe(1);
    expect(campaigns.campaigns[0].steps[0].variants.length).toBeGreaterThan(0);
    const offers = (await api(four, "/v1/metrics/offers?from=2031-03-01&to=2031-03-31", { now: LATER })).body;
    expect(offers.total.shown).toBeGreaterThan(5);
    const winback = (await api(four, "/v1/metrics/winback?from=2031-02-01&to=2031-03-31", { now: LATER }))
      .body;
    expect(winback.targeted).toBeGreaterThan(3);
    const dunning = (await api(four, "/v1/metrics/dunning?from=2031-02-01&to=2031-03-31", { now: LATER }))
      .body;
    expect(dunning.at_risk).toBeGreaterThan(3);
    expect(dunning.recovered).toBeGreaterThan(0);
  });

  const LISTS: {
    path: string;
    keyOf: (item: Json) => KeyPart[];
    order: "asc" | "desc";
    drop: string[];
  }[] = [
    {
      path: "/v1/metrics/cancellations/customers?from=2030-06-01&to=2031-06-30",
      keyOf: (item) => [time(item.canceled_at), item.customer_id],
      order: "asc",
      drop: [],
    },
    {
      path: "/v1/metrics/dunning/cases?from=2031-02-01&to=2031-03-31",
      keyOf: (item) => [time(item.opened_at), item.customer_id, item.invoice_id],
      order: "asc",
      drop: [],
    },
    {
      path: "/v1/metrics/offers/decisions?from=2031-03-01&to=2031-03-31",
      keyOf: (item) => [time(item.created_at), item.id],
      order: "asc",
      drop: ["id"],
    },
    {
      path: "/v1/metrics/winback/customers?from=2031-02-01&to=2031-03-31",
      keyOf: (item) => [time(item.targeted_at), item.first_send_id],
      order: "asc",
      drop: ["first_send_id"],
    },
    {
      path: "/v1/metrics/campaigns/customers?from=2031-03-01&to=2031-03-31",
      keyOf: (item) => [item.campaign, item.occurrence, item.step, item.customer_id],
      order: "asc",
      drop: [],
    },
    { path: "/v1/metrics/decisions/recent", keyOf: (item) => [item.id], order: "desc", drop: ["id", "why"] },
    {
      path: "/v1/metrics/sends/problems",
      keyOf: (item) => [item.id],
      order: "desc",
      drop: ["id", "updated_at", "last_error"],
    },
  ];

  it.each(LISTS)("$path pages every shard with one cursor like one database", async ({
    path,
    keyOf,
    order,
    drop,
  }) => {
    const [sharded, single] = await Promise.all([walk(four, path, "items", 3), walk(one, path, "items", 3)]);
    expectOrdered(sharded, keyOf, order);
    expect(comparable(sharded, drop)).toEqual(comparable(single, drop));
    if (drop.length === 0) expect(sharded).toEqual(single);
  });

  it("lists something in each list that is meant to have rows", async () => {
    for (const path of [LISTS[0]!.path, LISTS[1]!.path, LISTS[2]!.path, LISTS[4]!.path, LISTS[5]!.path]) {
      const answer = await api(four, `${path}${path.includes("?") ? "&" : "?"}limit=500`, { now: LATER });
      expect(answer.body.items.length, path).toBeGreaterThan(0);
    }
  });
});

describe("rebound plan across shards", () => {
  it("answers the same pages as one database, with one cursor over every shard", async () => {
    const pagesOf = async (deployment: Env) => {
      const pages: Json[] = [];
      let cursor: string | null = null;
      do {
        const answer = await api(deployment, "/v1/admin/plan", {
          body: {
            ruleset: proposed,
            at: isoOf(LATER),
            days: 14,
            page_size: 7,
            ...(cursor ? { cursor } : {}),
          },
        });
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        if (deployment === four) expect(answer.body.meta).toEqual({ shards: 4 });
        pages.push(answer.body.plan);
        cursor = answer.body.plan.next_cursor;
      } while (cursor !== null && pages.length < 20);
      return pages;
    };
    const [sharded, single] = await Promise.all([pagesOf(four), pagesOf(one)]);
    expect(sharded.length).toBe(Math.ceil(CUSTOMERS.length / 7));
    const withoutCost = (pages: Json[]) => pages.map(({ cost: _, ...page }) => page);
    expect(withoutCost(sharded)).toEqual(withoutCost(single));
    expect(sharded.reduce((sum, page) => sum + page.customers, 0)).toBe(CUSTOMERS.length);
    for (const page of sharded) expect(page.cost.rows_read).toBeGreaterThan(0);
  });
});
