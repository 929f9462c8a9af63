// Billing-provider webhooks on a sharded deployment: a delivery's customer decides the shard (its
// events, its hold and its count land there and nowhere else), the admin counts and the held list
// add up every shard and answer what one database holding the same deliveries answers, and a
// replay walks the held deliveries of every shard with one cursor, each replayed on its own shard.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { createApp } from "../../worker/api/app";
import { ROUTES } from "../../worker/api/route-table";
import { allShards, placedShard } from "../../worker/db/shards";
import type { Env } from "../../worker/env";
import { ruleset as deployed } from "../../worker/generated/ruleset";
import { SECRETS, stripeEvent, stripeHeader, stripeSubscription } from "./provider-webhooks-fixtures";
import { databasesOf, issueKeyOnEvery, shardedEnv, spareDatabase } from "./shard-env";

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

const deployedRules = loadRuleset(deployed);
/** The deployed rules, with `billing.plans` mapping `price_team_monthly` to `pro`. */
const mappingRules = loadRuleset({
  ...deployed,
  billing: { ...deployed.billing, plans: { ...deployed.billing.plans, price_team_monthly: "pro" } },
});

const CUSTOMERS = Array.from({ length: 12 }, (_, i) => `cus_prov_${i}`);

let four: Env;
let one: Env;
let admin = "";

/** An admin key written into every database of the deployments (the key routes do so for real). */
const keyOnEveryShard = (deployments: readonly Env[]) =>
  issueKeyOnEvery(databasesOf(...deployments), ["admin"]);

/** A subscription whose price the deployed rules do not map (held), or `price_pro_monthly`-like ones. */
function teamSubscription(eventId: string, customer: string) {
  return stripeEvent(
    eventId,
    "customer.subscription.created",
    T0,
    stripeSubscription(customer, [{ price: "price_team_monthly", amount: 9900, quantity: 3 }]),
  );
}

async function deliverTo(deployment: Env, event: unknown) {
  const body = JSON.stringify(event);
  const response = await createApp(ROUTES, { ruleset: () => deployedRules }).fetch(
    new Request("http://rebound.test/v1/webhooks/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": await stripeHeader(body) },
      body,
    }),
    { ...deployment, ...SECRETS },
  );
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
  return { status: response.status, body: (await response.json()) as any };
}

async function adminCall(deployment: Env, path: string, rules = deployedRules, body?: unknown) {
  const response = await createApp(ROUTES, { ruleset: () => rules }).fetch(
    new Request(`http://rebound.test${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    deployment,
  );
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
  return { status: response.status, body: (await response.json()) as any };
}

async function countRows(db: D1Database, sql: string, ...params: unknown[]): Promise<number> {
  const row = await db
    .prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

beforeAll(async () => {
  four = await shardedEnv([env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3)]);
  one = await shardedEnv([spareDatabase(4)]);
  admin = await keyOnEveryShard([four, one]);
  // The customers land on more than one shard, so the merge has something to merge.
  expect(new Set(CUSTOMERS.map((id) => placedShard(id, 4))).size).toBeGreaterThan(2);
  for (const [n, customer] of CUSTOMERS.entries()) {
    for (const deployment of [four, one]) {
      const held = await deliverTo(deployment, teamSubscription(`evt_team_${n}`, customer));
      expect(held.body).toMatchObject({ outcome: "unmapped_plan", held: true });
    }
  }
});

describe("a provider delivery on a sharded deployment", () => {
  it("is held and counted on its customer's shard only", async () => {
    const shards = allShards(four);
    for (const [n, customer] of CUSTOMERS.entries()) {
      const home = placedShard(customer, 4);
      for (const shard of shards) {
        const held = await countRows(
          shard.db,
          "SELECT count(*) AS n FROM provider_held_events WHERE provider_event_id = ?1 AND customer_id = ?2",
          `evt_team_${n}`,
          customer,
        );
        expect(held, `${customer} held on shard ${shard.index}`).toBe(shard.index === home ? 1 : 0);
      }
    }
    // Each shard counted the deliveries of its own customers.
    for (const shard of shards) {
      const counted = await countRows(
        shard.db,
        "SELECT coalesce(sum(count), 0) AS n FROM provider_event_counts WHERE provider = 'stripe'",
      );
      expect(counted).toBe(CUSTOMERS.filter((id) => placedShard(id, 4) === shard.index).length);
    }
  });

  it("stores a mapped delivery's events on its customer's shard only", async () => {
    const customer = CUSTOMERS[0]!;
    const event = stripeEvent(
      "evt_mapped_0",
      "customer.subscription.created",
      T0,
      stripeSubscription(customer, [{ price: "price_team_monthly", amount: 9900 }]),
    );
    const body = JSON.stringify(event);
    const response = await createApp(ROUTES, { ruleset: () => mappingRules }).fetch(
      new Request("http://rebound.test/v1/webhooks/stripe", {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": await stripeHeader(body) },
        body,
      }),
      { ...four, ...SECRETS },
    );
    expect(((await response.json()) as { outcome: string }).outcome).toBe("ingested");
    for (const shard of allShards(four)) {
      const stored = await countRows(
        shard.db,
        "SELECT count(*) AS n FROM events WHERE customer_id = ?1",
        customer,
      );
      expect(stored > 0, `events of ${customer} on shard ${shard.index}`).toBe(
        shard.index === placedShard(customer, 4),
      );
    }
  });
});

describe("the admin provider routes across shards", () => {
  it("add up every shard's counts and held deliveries", async () => {
    const [sharded, single] = await Promise.all(
      [four, one].map((deployment) =>
        adminCall(deployment, "/v1/admin/provider-events?from=2020-01-01&to=2020-12-31"),
      ),
    );
    expect(sharded!.status).toBe(200);
    // A window without deliveries: both empty, the same held total.
    expect(sharded!.body.provider_events).toEqual([]);
    expect(sharded!.body.held).toBe(single!.body.held);
    const today = await Promise.all(
      [four, one].map((deployment) => adminCall(deployment, "/v1/admin/provider-events")),
    );
    const held = today.map(({ body }) => body.held);
    // The mapped delivery of the test above released nothing; every customer's delivery is held.
    expect(held).toEqual([CUSTOMERS.length, CUSTOMERS.length]);
    type CountRow = { outcome: string; count: number; last_received_at: string };
    const withoutTimes = (rows: CountRow[]) => rows.map(({ last_received_at: _, ...row }) => row);
    const unmapped = (rows: CountRow[]) => rows.filter((row) => row.outcome === "unmapped_plan");
    expect(withoutTimes(unmapped(today[0]!.body.provider_events))).toEqual(
      withoutTimes(unmapped(today[1]!.body.provider_events)),
    );
    expect(unmapped(today[0]!.body.provider_events)[0]?.count).toBe(CUSTOMERS.length);
    expect(today[0]!.body.meta).toMatchObject({ shards: 4 });
    expect(today[0]!.body.meta.rows_read).toBeGreaterThan(0);
  });

  it("pages the held deliveries of every shard with one cursor, without a gap or a repeat", async () => {
    const walked: { provider_event_id: string; received_at: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await adminCall(
        four,
        `/v1/admin/provider-events/held?limit=5${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.held.length).toBeLessThanOrEqual(5);
      expect(page.body.total).toBe(CUSTOMERS.length);
      expect(page.body.meta.shards).toBe(4);
      walked.push(...page.body.held);
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    const ids = walked.map((row) => row.provider_event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(CUSTOMERS.map((_, n) => `evt_team_${n}`).sort());
    // Oldest first on (received_at, provider, provider event id), across shards.
    const keys = walked.map((row) => `${row.received_at} ${row.provider_event_id}`);
    const sorted = [...walked]
      .sort((a, b) =>
        a.received_at === b.received_at
          ? a.provider_event_id < b.provider_event_id
            ? -1
            : 1
          : a.received_at < b.received_at
            ? -1
            : 1,
      )
      .map((row) => `${row.received_at} ${row.provider_event_id}`);
    expect(keys).toEqual(sorted);
    // The same deliveries as one database holding them all.
    const single = await adminCall(one, "/v1/admin/provider-events/held?limit=200");
    expect(
      single.body.held.map((row: { provider_event_id: string }) => row.provider_event_id).sort(),
    ).toEqual([...ids].sort());
  });

  it("replays every shard's held deliveries, each on its shard, in bounded calls that follow one cursor", async () => {
    let cursor: string | null = null;
    let replayed = 0;
    let calls = 0;
    do {
      const body: Record<string, unknown> = { limit: 5, ...(cursor ? { cursor } : {}) };
      const answer = await adminCall(four, "/v1/admin/provider-events/replay", mappingRules, body);
      expect(answer.status).toBe(200);
      expect(answer.body.replayed).toBeLessThanOrEqual(5);
      expect(answer.body.meta.shards).toBe(4);
      replayed += answer.body.replayed;
      cursor = answer.body.next_cursor;
      calls += 1;
    } while (cursor !== null && calls < 10);
    expect(replayed).toBe(CUSTOMERS.length);
    expect(calls).toBe(Math.ceil(CUSTOMERS.length / 5));
    const after = await adminCall(four, "/v1/admin/provider-events/held");
    expect(after.body.total).toBe(0);
    for (const customer of CUSTOMERS) {
      for (const shard of allShards(four)) {
        const stored = await countRows(
          shard.db,
          "SELECT count(*) AS n FROM events WHERE customer_id = ?1 AND type = 'subscription.started'",
          customer,
        );
        expect(stored > 0, `${customer} replayed onto shard ${shard.index}`).toBe(
          shard.index === placedShard(customer, 4),
        );
      }
    }
  });
});
