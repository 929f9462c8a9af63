// Smoke test: `SHARDS=4 npm start`'s deployment under a real `wrangler dev`: the config npm start
// writes (four local D1 databases, each migrated), events for customers spread over the shards
// ingested in one batch, each profile read back over HTTP through a key made by the API, and each
// customer's rows found on the database its id hashes to and on no other.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { placedShard } from "../../worker/db/placement";
import {
  applyShardMigrations,
  type DevServer,
  freePort,
  REPO_ROOT,
  runWrangler,
  type ShardedConfig,
  startDevServer,
  writeShardedConfig,
} from "../../worker/tools/wrangler-dev";
import type { Json } from "./dev-server";

const SHARDS = 4;
const CUSTOMERS = 16;
const adminKey = `smoke-admin-${crypto.randomUUID()}`;

let config: ShardedConfig;
let stateDir: string;
let server: DevServer | undefined;

beforeAll(async () => {
  // A file of its own: npm start's, if one is running, must not change under it.
  config = writeShardedConfig(SHARDS, `smoke-shards-${SHARDS}-${process.pid}.toml`);
  stateDir = mkdtempSync(join(tmpdir(), "rebound-smoke-shards-"));
  await applyShardMigrations(config, { persistTo: stateDir, quiet: true });
  server = await startDevServer({
    port: await freePort(),
    persistTo: stateDir,
    config: config.path,
    secrets: { REBOUND_ADMIN_KEY: adminKey },
  });
}, 240_000);

afterAll(async () => {
  await server?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  if (config) rmSync(config.path, { force: true });
});

async function request(method: string, path: string, key: string, body?: unknown) {
  if (!server) throw new Error("the wrangler dev server has not started");
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

/** Runs a read-only query on one local database of the config with `wrangler d1 execute`. */
async function query(databaseName: string, sql: string): Promise<Json[]> {
  const output = await runWrangler(
    ["d1", "execute", databaseName, "--local", "--config", config.path, "--persist-to", stateDir].concat([
      "--json",
      "--command",
      sql,
    ]),
    { quiet: true },
  );
  const parsed = JSON.parse(output.slice(output.indexOf("["))) as { results: Json[] }[];
  return parsed.flatMap((statement) => statement.results);
}

const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const customerIds = Array.from({ length: CUSTOMERS }, (_, n) => `smoke-shard-${n}`);

/** Three events per customer, interleaved across customers so one batch spans every shard. */
function batch() {
  const events: Json[] = [];
  for (const [step, type] of ["subscription.started", "payment.succeeded", "activity"].entries()) {
    customerIds.forEach((customerId, n) => {
      const properties =
        type === "subscription.started"
          ? { plan: "pro", mrr: 1000 + n, currency: "USD" }
          : type === "payment.succeeded"
            ? { invoice_id: `in_${n}`, amount: 1000 + n, currency: "USD" }
            : { feature: "reports" };
      events.push({
        id: `${customerId}-${step}`,
        type,
        customer_id: customerId,
        occurred_at: ago(30 - step * 10),
        properties,
      });
    });
  }
  return events;
}

describe("npm start on four shards", () => {
  it("writes wrangler.toml again with four databases, SHARDS = 4 and an archive bucket of its own, everything else the same", () => {
    // biome-ignore lint/suspicious/noExplicitAny: wrangler's config type does not resolve here (cloudflare-account.ts)
    const read = (path: string): any => unstable_readConfig({ config: path });
    const original = read(join(REPO_ROOT, "wrangler.toml"));
    const sharded = read(config.path);
    expect(sharded.d1_databases.map((database: Json) => database.binding)).toEqual([
      "DB",
      "DB_1",
      "DB_2",
      "DB_3",
    ]);
    for (const database of sharded.d1_databases)
      expect(join(dirname(config.path), database.migrations_dir)).toBe(join(REPO_ROOT, "migrations"));
    expect(sharded.vars).toEqual({ ...original.vars, SHARDS: "4" });
    expect(sharded.main).toBe(original.main);
    // The reader leaves [assets] as written: relative to each file's own directory.
    expect(join(dirname(config.path), sharded.assets.directory)).toBe(
      join(REPO_ROOT, original.assets.directory),
    );
    expect(sharded.build.watch_dir).toEqual(original.build.watch_dir);
    for (const field of ["name", "compatibility_date", "queues", "triggers", "send_email"])
      expect(sharded[field], field).toEqual(original[field]);
    // The archive bucket is local to this deployment, beside the one-database start's.
    expect(sharded.r2_buckets).toEqual(
      original.r2_buckets.map((bucket: Json) => ({
        ...bucket,
        bucket_name: `${bucket.bucket_name}-shards-4`,
      })),
    );
  });

  it("writes one [[d1_databases]] per shard, each its own database, and the Worker reports them migrated", async () => {
    expect(config.shards.map((shard) => shard.binding)).toEqual(["DB", "DB_1", "DB_2", "DB_3"]);
    expect(new Set(config.shards.map((shard) => shard.database_name)).size).toBe(SHARDS);
    expect(config.shards.map((shard) => shard.database_name)).not.toContain("rebound");
    if (!server) throw new Error("the wrangler dev server has not started");
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as Json;
    expect(health.ok).toBe(true);
    for (const shard of config.shards) {
      const tables = await query(shard.database_name, "SELECT name FROM sqlite_master WHERE name = 'events'");
      expect(tables, shard.database_name).toHaveLength(1);
    }
  });

  it("places every customer of a mixed batch on its shard, and reads each profile back with one key", async () => {
    const placed = customerIds.map((id) => placedShard(id, SHARDS));
    // The ids were chosen so that the batch needs every shard.
    expect(new Set(placed).size).toBe(SHARDS);

    const created = await request("POST", "/v1/admin/api-keys", adminKey, {
      name: "smoke shards",
      scopes: ["events:write", "decisions:read"],
    });
    expect(created.status).toBe(201);
    const key = created.body.api_key.key as string;

    const ingested = await request("POST", "/v1/events", key, { events: batch() });
    expect(ingested.status).toBe(200);
    expect(ingested.body).toMatchObject({ accepted: 3 * CUSTOMERS, duplicates: 0 });

    for (const [n, customerId] of customerIds.entries()) {
      const read = await request("GET", `/v1/customers/${customerId}`, key);
      expect(read.status, customerId).toBe(200);
      expect(read.body.customer).toMatchObject({
        status: "active",
        plan: "pro",
        mrr: 1000 + n,
        ltv: 1000 + n,
      });
    }

    for (const [index, shard] of config.shards.entries()) {
      const rows = await query(
        shard.database_name,
        "SELECT customer_id, COUNT(*) AS events FROM events GROUP BY customer_id ORDER BY customer_id",
      );
      const expected = customerIds
        .filter((_, n) => placed[n] === index)
        .sort()
        .map((customerId) => ({ customer_id: customerId, events: 3 }));
      expect(rows, shard.database_name).toEqual(expected);
      const customers = await query(shard.database_name, "SELECT id FROM customers ORDER BY id");
      expect(customers.map((row) => row.id)).toEqual(expected.map((row) => row.customer_id));
    }
  });
});
