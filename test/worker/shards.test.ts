// Where customers live (worker/db/shards.ts): the slot and jump-hash placement against an independent
// implementation, the growth property that makes adding shards cheap, and the configuration errors.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  allShards,
  customerShard,
  customerShards,
  customerSlot,
  placedShard,
  SLOT_COUNT,
  shardOfSlot,
  shardPlan,
  slotShards,
} from "../../worker/db/shards";
import type { Env } from "../../worker/env";
import worker from "../../worker/index";
import reference from "../fixtures/shards/slots.json";
import { shardedEnv, spareDatabase } from "./shard-env";

describe("placement", () => {
  it("matches the reference implementation's slots and shards for 1 to 8 shards", () => {
    for (const customer of reference.customers) {
      expect(customerSlot(customer.id), customer.id).toBe(customer.slot);
      expect(
        customer.shards.map((_, i) => placedShard(customer.id, i + 1)),
        customer.id,
      ).toEqual(customer.shards);
    }
  });

  it("spreads slots evenly and moves only to the new shards when the count grows", () => {
    for (let count = 1; count <= 8; count += 1) {
      const sizes = new Array(count).fill(0);
      for (let slot = 0; slot < SLOT_COUNT; slot += 1) sizes[shardOfSlot(slot, count)] += 1;
      const ideal = SLOT_COUNT / count;
      for (const size of sizes) expect(Math.abs(size - ideal) / ideal).toBeLessThan(0.12);
      if (count === 1) continue;
      let moved = 0;
      for (let slot = 0; slot < SLOT_COUNT; slot += 1) {
        const before = shardOfSlot(slot, count - 1);
        const after = shardOfSlot(slot, count);
        if (before !== after) {
          moved += 1;
          expect(after).toBe(count - 1);
        }
      }
      expect(Math.abs(moved - ideal) / ideal).toBeLessThan(0.12);
    }
  });
});

describe("configuration", () => {
  it("defaults to one shard, the DB binding", () => {
    expect(shardPlan({})).toEqual({ count: 1, from: null });
    expect(allShards(env).map((shard) => shard.index)).toEqual([0]);
  });

  it("refuses counts that are not whole, and a SHARDS_FROM that is not below SHARDS", () => {
    expect(() => shardPlan({ SHARDS: "0" })).toThrow(/SHARDS must be a whole number/);
    expect(() => shardPlan({ SHARDS: "2.5" })).toThrow(/SHARDS must be a whole number/);
    expect(() => shardPlan({ SHARDS: "four" })).toThrow(/SHARDS must be a whole number/);
    expect(() => shardPlan({ SHARDS: "4", SHARDS_FROM: "4" })).toThrow(/SHARDS_FROM \(4\) must be below/);
  });

  it("names the binding a shard count needs but wrangler.toml does not declare", () => {
    expect(() => allShards({ ...env, SHARDS: "3", DB_2: undefined })).toThrow(
      /no D1 database is bound as DB_2/,
    );
  });

  it("during a growth, reads the directory only for customers whose slot moves", async () => {
    const five = await shardedEnv(
      [env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3), spareDatabase(4)],
      { SHARDS_FROM: "4" },
    );
    const moving = reference.customers.find((c) => c.shards[3] !== c.shards[4]);
    const staying = reference.customers.find((c) => c.shards[3] === c.shards[4]);
    if (!moving || !staying) throw new Error("the reference set has customers of both kinds");
    expect((await customerShard(five, staying.id)).index).toBe(staying.shards[4]);
    expect((await customerShard(five, moving.id)).index).toBe(moving.shards[3]);
    await env.DB.prepare("INSERT INTO customer_placements (customer_id, shard, moved_at) VALUES (?1, ?2, 0)")
      .bind(moving.id, moving.shards[4])
      .run();
    expect((await customerShard(five, moving.id)).index).toBe(moving.shards[4]);
    const many = await customerShards(five, [moving.id, staying.id, moving.id]);
    expect([...many].map(([id, shard]) => [id, shard.index])).toEqual([
      [staying.id, staying.shards[4]],
      [moving.id, moving.shards[4]],
    ]);
    expect(slotShards(five, moving.slot).map((shard) => shard.index)).toEqual([
      moving.shards[4],
      moving.shards[3],
    ]);
  });
});

describe("GET /healthz on a sharded deployment", () => {
  it("lists every shard's last migration, and answers 503 when one is unbound or behind", async () => {
    const health = async (bindings: Env) => {
      const response = await worker.fetch(
        new Request("http://rebound.test/healthz") as Parameters<typeof worker.fetch>[0],
        bindings,
        createExecutionContext(),
      );
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const three = await shardedEnv([env.DB, spareDatabase(1), spareDatabase(2)]);
    const good = await health(three);
    expect(good.status).toBe(200);
    expect(good.body.ok).toBe(true);
    expect(good.body.shards).toEqual(
      ["DB", "DB_1", "DB_2"].map((binding) => ({
        binding,
        bound: true,
        last_migration: good.body.last_migration,
      })),
    );

    const unbound = await health({ ...three, DB_2: undefined });
    expect(unbound.status).toBe(503);
    expect(unbound.body.ok).toBe(false);

    // DB_6 never had a migration applied.
    const behind = await health({ ...three, DB_2: spareDatabase(6) });
    expect(behind.status).toBe(503);
    expect((behind.body.shards as { last_migration: unknown }[])[2]?.last_migration).toBeNull();
  });
});
