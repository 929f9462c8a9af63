// POST /v1/events with a batch for many customers on a sharded deployment: split by shard, each
// shard's part stored all or nothing. A request whose shards all stored answers as one database does;
// one where a shard failed says what was stored and what was not, and sending it again stores the
// rest exactly once.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../worker/api/app";
import { placedShard } from "../../worker/db/shards";
import type { Env } from "../../worker/env";
import { SEAL_KEY } from "../../worker/ingest/write-events";
import { issueKeyOnEvery, shardedEnv, spareDatabase } from "./shard-env";

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
type Json = any;

async function postEvents(
  bindings: Env,
  key: string,
  body: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await app.fetch(
    new Request("http://rebound.test/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    bindings,
    createExecutionContext(),
  );
  return { status: response.status, body: await response.json() };
}

const writerKey = (databases: readonly D1Database[]) => issueKeyOnEvery(databases, ["events:write"]);

/** A database whose batches fail, as a shard in an outage would: nothing of a batch is written. */
function failingBatches(db: D1Database): D1Database {
  return {
    prepare: (query: string) => db.prepare(query),
    batch: async () => {
      throw new Error("D1_ERROR: Network connection lost.");
    },
    exec: async () => {
      throw new Error("D1_ERROR: Network connection lost.");
    },
  } as unknown as D1Database;
}

/** Two events per customer, ids fixed by `tag` so a request can be sent again to any deployment. */
function batchFor(tag: string, customers: readonly string[]) {
  return customers.flatMap((id) => [
    {
      id: `${tag}-${id}-start`,
      type: "subscription.started",
      customer_id: id,
      occurred_at: "2026-01-10T00:00:00Z",
      properties: { plan: "pro", mrr: 4900, currency: "USD" },
    },
    {
      id: `${tag}-${id}-active`,
      type: "activity",
      customer_id: id,
      occurred_at: "2026-01-11T00:00:00Z",
    },
  ]);
}

function customersFor(tag: string, count = 24): string[] {
  return Array.from({ length: count }, (_, n) => `${tag}-cus-${n}`);
}

async function storedCount(db: D1Database, ids: readonly string[]): Promise<number> {
  const row = await db
    .prepare("SELECT count(*) AS n FROM events WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids))
    .first<{ n: number }>();
  return row?.n ?? 0;
}

let databases: D1Database[];
let four: Env;
let one: Env;
let writer: string;
let writerOne: string;

beforeAll(async () => {
  databases = [env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3)];
  four = await shardedEnv(databases);
  one = await shardedEnv([spareDatabase(4)]);
  writer = await writerKey(databases);
  writerOne = await writerKey([spareDatabase(4)]);
});

describe("an events batch across shards", () => {
  it("answers as one database does when every shard stores its part", async () => {
    const customers = customersFor("same");
    const events = batchFor("same", customers);
    // Sent twice in the request: counted as a duplicate, as always.
    const body = { events: [...events, events[5]] };
    const sharded = await postEvents(four, writer, body);
    const single = await postEvents(one, writerOne, body);
    expect(sharded.status).toBe(200);
    expect(single.status).toBe(200);
    const { meta, ...answer } = sharded.body;
    const { meta: metaOne, ...answerOne } = single.body;
    expect(answer).toEqual(answerOne);
    expect(answer).toMatchObject({ accepted: 48, duplicates: 1, duplicate_ids: [events[5]!.id] });
    expect(Object.keys(sharded.body)).toEqual(Object.keys(single.body));
    expect(meta.rows_written).toBeGreaterThan(0);
    expect(metaOne.rows_written).toBeGreaterThan(0);

    const again = await postEvents(four, writer, { events });
    const againOne = await postEvents(one, writerOne, { events });
    expect(again.body.duplicate_ids).toEqual(events.map((event) => event.id));
    expect({ ...again.body, meta: null }).toEqual({ ...againOne.body, meta: null });
  });

  it("stores the other shards' parts when one shard fails, says which were not stored, and a resend stores the rest once", async () => {
    const customers = customersFor("outage");
    const events = batchFor("outage", customers);
    const onShard2 = events.filter((event) => placedShard(event.customer_id, 4) === 2);
    const elsewhere = events.filter((event) => placedShard(event.customer_id, 4) !== 2);
    expect(onShard2.length).toBeGreaterThan(0);
    expect(elsewhere.length).toBeGreaterThan(0);

    const outage = { ...four, DB_2: failingBatches(databases[2]!) } as Env;
    const failed = await postEvents(outage, writer, { events });
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("events_not_all_stored");
    expect(failed.body.not_stored_ids).toEqual(onShard2.map((event) => event.id));
    expect(failed.body.stored).toEqual({
      accepted: elsewhere.length,
      duplicates: 0,
      duplicate_ids: [],
      conflicting_ids: [],
      erased: 0,
      erased_ids: [],
    });
    // One detail per event not stored, pointing at it in the request, naming no internals.
    expect(failed.body.error.details).toHaveLength(onShard2.length);
    expect(failed.body.error.details[0].path).toBe(`/events/${events.indexOf(onShard2[0]!)}`);
    expect(failed.body.error.details[0].message).toMatch(/^not stored: internal: .*request id/);
    expect(failed.body.error.details[0].message).not.toContain("Network");
    expect(
      await storedCount(
        databases[2]!,
        onShard2.map((event) => event.id),
      ),
    ).toBe(0);
    for (const [index, db] of databases.entries()) {
      if (index === 2) continue;
      const here = elsewhere.filter((event) => placedShard(event.customer_id, 4) === index);
      expect(
        await storedCount(
          db,
          here.map((event) => event.id),
        ),
      ).toBe(here.length);
    }

    const resent = await postEvents(four, writer, { events });
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ accepted: onShard2.length, duplicates: elsewhere.length });
    expect(resent.body.duplicate_ids).toEqual(elsewhere.map((event) => event.id));
    for (const [index, db] of databases.entries()) {
      const here = events.filter((event) => placedShard(event.customer_id, 4) === index);
      expect(
        await storedCount(
          db,
          here.map((event) => event.id),
        ),
      ).toBe(here.length);
    }
    // Each profile folded its events exactly once.
    const profile = await databases[2]!
      .prepare("SELECT profile_version FROM customers WHERE id = ?1")
      .bind(onShard2[0]!.customer_id)
      .first<{ profile_version: number }>();
    expect(profile?.profile_version).toBe(1);
  });

  it("refuses events dated in an archived day as one database does, storing the other shards' parts", async () => {
    const sealedBefore = Date.parse("2026-01-05T00:00:00Z");
    const customers = customersFor("sealed", 12);
    const sealedShard = placedShard(customers[0]!, 4);
    const events = batchFor("sealed", customers);
    const old = { ...events[1]!, id: "sealed-old", occurred_at: "2026-01-01T00:00:00Z" };
    const body = { events: [...events, old] };
    const seal = `INSERT INTO tick_state (key, value, updated_at) VALUES ('${SEAL_KEY}', ${sealedBefore}, 0)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
    await databases[sealedShard]!.prepare(seal).run();
    await spareDatabase(4).prepare(seal).run();
    try {
      const sharded = await postEvents(four, writer, body);
      const single = await postEvents(one, writerOne, body);
      expect(sharded.status).toBe(400);
      expect(single.status).toBe(400);
      expect(sharded.body.error).toEqual(single.body.error);
      expect(sharded.body.error.details).toEqual([
        { path: `/events/${events.length}/occurred_at`, message: expect.stringContaining("archived") },
      ]);
      const refusedHere = body.events.filter((event) => placedShard(event.customer_id, 4) === sealedShard);
      expect(sharded.body.not_stored_ids).toEqual(refusedHere.map((event) => event.id));
      expect(sharded.body.stored.accepted).toBe(body.events.length - refusedHere.length);
      expect(
        await storedCount(
          databases[sealedShard]!,
          refusedHere.map((event) => event.id),
        ),
      ).toBe(0);

      // Without the refused event, the request stores the rest; what was stored comes back as duplicates.
      const fixed = await postEvents(four, writer, { events });
      expect(fixed.status).toBe(200);
      expect(fixed.body).toMatchObject({
        accepted: refusedHere.length - 1,
        duplicates: events.length - (refusedHere.length - 1),
      });
    } finally {
      await databases[sealedShard]!.prepare(`DELETE FROM tick_state WHERE key = '${SEAL_KEY}'`).run();
      await spareDatabase(4).prepare(`DELETE FROM tick_state WHERE key = '${SEAL_KEY}'`).run();
    }
  });

  it("answers 503 customer_moving for a customer behind the move tool's fence", async () => {
    const moving = "moving-cus-1";
    const shard = placedShard(moving, 4);
    const db = databases[shard]!;
    await db
      .prepare(
        `CREATE TRIGGER test_fence BEFORE INSERT ON events WHEN NEW.customer_id = '${moving}'
         BEGIN SELECT RAISE(ABORT, 'customer_moving'); END`,
      )
      .run();
    try {
      const alone = await postEvents(four, writer, { events: batchFor("fence", [moving]) });
      expect(alone.status).toBe(503);
      expect(alone.body.error.code).toBe("customer_moving");

      const others = customersFor("fence", 12).filter((id) => placedShard(id, 4) !== shard);
      const events = batchFor("fence", [moving, ...others]);
      const mixed = await postEvents(four, writer, { events });
      expect(mixed.status).toBe(503);
      expect(mixed.body.error.code).toBe("events_not_all_stored");
      expect(mixed.body.not_stored_ids).toEqual(events.slice(0, 2).map((event) => event.id));
      expect(mixed.body.error.details[0]).toEqual({
        path: "/events/0",
        message: expect.stringMatching(/^not stored: customer_moving: /),
      });
      expect(mixed.body.stored.accepted).toBe(events.length - 2);
    } finally {
      await db.prepare("DROP TRIGGER test_fence").run();
    }
    const after = await postEvents(four, writer, { events: batchFor("fence", [moving]) });
    expect(after.status).toBe(200);
    expect(after.body.accepted).toBe(2);
  });
});
