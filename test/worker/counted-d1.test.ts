// The counting D1 handle (worker/db/counted.ts) behaves as D1 does and counts every statement issued
// through it, whoever issues it: plain statements, batches, sessions, exec, and drizzle (its query
// builder, its prepared statements and its batch).
import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { beforeEach, describe, expect, it } from "vitest";
import { CountedD1 } from "../../worker/db/counted";
import { apiKeys } from "../../worker/db/schema";

const INSERT_KEY =
  "INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, created_at) VALUES (?1, ?1, ?2, 'rb_', '[]', 0)";

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM api_keys").run();
  await env.DB.batch(["a", "b", "c"].map((id) => env.DB.prepare(INSERT_KEY).bind(`key_${id}`, `hash_${id}`)));
});

describe("a counted D1 handle", () => {
  it("counts one statement per run, all, first and raw, and the rows D1 says each read", async () => {
    const db = new CountedD1(env.DB);
    const everyKey = "SELECT id FROM api_keys ORDER BY id";
    const direct = await env.DB.prepare(everyKey).all();
    const rowsPerRead = direct.meta.rows_read;
    expect(rowsPerRead).toBeGreaterThan(0);

    const all = await db.prepare(everyKey).all<{ id: string }>();
    expect(all.results.map((row) => row.id)).toEqual(["key_a", "key_b", "key_c"]);
    expect(db).toMatchObject({ queries: 1, rowsRead: rowsPerRead });

    // first() answers as D1's does, and its rows read count too.
    expect(await db.prepare(everyKey).first()).toEqual({ id: "key_a" });
    expect(await db.prepare(everyKey).first<string>("id")).toBe("key_a");
    expect(await db.prepare("SELECT id FROM api_keys WHERE id = ?").bind("none").first("id")).toBeNull();
    await expect(db.prepare(everyKey).first("nope")).rejects.toThrow(/D1_COLUMN_NOTFOUND/);
    await expect(env.DB.prepare(everyKey).first("nope")).rejects.toThrow(/D1_COLUMN_NOTFOUND/);
    expect(db.queries).toBe(5);
    expect(db.rowsRead).toBeGreaterThanOrEqual(4 * rowsPerRead);

    expect(await db.prepare(everyKey).raw()).toEqual([["key_a"], ["key_b"], ["key_c"]]);
    expect(await db.prepare(everyKey).raw({ columnNames: true })).toEqual([
      ["id"],
      ["key_a"],
      ["key_b"],
      ["key_c"],
    ]);
    const written = await db.prepare(INSERT_KEY).bind("key_d", "hash_d").run();
    expect(written.meta.changes).toBe(1);
    expect(db.queries).toBe(8);
  });

  it("counts each statement of a batch (its own statements or the platform's) and sums their rows read", async () => {
    const db = new CountedD1(env.DB);
    const results = await db.batch([
      db.prepare("SELECT count(*) AS n FROM api_keys"),
      db.prepare(INSERT_KEY).bind("key_e", "hash_e"),
      env.DB.prepare("SELECT id FROM api_keys WHERE id = ?1").bind("key_e"),
    ]);
    expect(results.map((result) => result.results)).toEqual([[{ n: 3 }], [], [{ id: "key_e" }]]);
    expect(db.queries).toBe(3);
    expect(db.rowsRead).toBe(results.reduce((sum, result) => sum + (result.meta.rows_read ?? 0), 0));
  });

  it("counts through a session and exec into the same total", async () => {
    const db = new CountedD1(env.DB);
    const session = db.withSession("first-unconstrained");
    expect((await session.prepare("SELECT id FROM api_keys").all()).results).toHaveLength(3);
    await session.batch([session.prepare("SELECT 1"), session.prepare("SELECT 2")]);
    expect(db.queries).toBe(3);
    const executed = await db.exec("SELECT 1; SELECT 2");
    expect(db.queries).toBe(3 + executed.count);
  });

  it("counts what drizzle issues through it: queries, prepared statements and batches", async () => {
    const counted = new CountedD1(env.DB);
    const db = drizzle(counted);
    await db.insert(apiKeys).values({
      id: "key_f",
      name: "f",
      keyHash: "hash_f",
      keyPrefix: "rb_",
      scopes: "[]",
      createdAt: 0,
    });
    const rows = await db.select({ id: apiKeys.id }).from(apiKeys).orderBy(apiKeys.id);
    expect(rows.map((row) => row.id)).toEqual(["key_a", "key_b", "key_c", "key_f"]);
    expect(counted.queries).toBe(2);

    const byHash = db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, sql.placeholder("hash")))
      .prepare();
    expect(await byHash.get({ hash: "hash_b" })).toEqual({ id: "key_b" });
    expect(await byHash.all({ hash: "hash_c" })).toEqual([{ id: "key_c" }]);
    expect(counted.queries).toBe(4);

    const [revoked, remaining] = await db.batch([
      db.update(apiKeys).set({ revokedAt: 1 }).where(eq(apiKeys.id, "key_a")),
      db.select({ id: apiKeys.id }).from(apiKeys).where(sql`${apiKeys.revokedAt} IS NULL`),
    ]);
    expect(revoked.meta.changes).toBe(1);
    expect(remaining.map((row) => row.id).sort()).toEqual(["key_b", "key_c", "key_f"]);
    expect(counted.queries).toBe(6);
    expect(counted.rowsRead).toBeGreaterThan(0);
  });
});
