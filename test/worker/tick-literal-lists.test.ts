// The audience SQL rewrite that inlines bound lists of plain names: same rows as the compiled SQL
// (missing values included), fewer D1 rows read, and lists it cannot inline stay bound.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bindSql } from "../../dsl/expr/sql";
import type { SqlFragment } from "../../dsl/expr/types";
import { deployedRuleset } from "../../worker/decisions/deployed-ruleset";
import { inlineLiteralLists } from "../../worker/tick/literal-lists";

const NOW = Date.parse("2031-03-04T15:00:00Z");
const DAY = 86_400_000;

async function select(fragment: SqlFragment) {
  const { results, meta } = await env.DB.prepare(
    `SELECT c.id FROM customers c WHERE (${fragment.sql}) AND c.id > '' ORDER BY c.id`,
  )
    .bind(...bindSql(fragment, NOW))
    .all<{ id: string }>();
  return { ids: results.map((row) => row.id), rowsRead: meta.rows_read };
}

describe("inlining list literals in audience SQL", () => {
  it("selects exactly the same customers as the compiled SQL, at one row read per customer instead of two", async () => {
    const reasons = ["too_expensive", "shutting_down", "other", "unused", null];
    await env.DB.batch(
      Array.from({ length: 40 }, (_, i) =>
        env.DB.prepare(
          `INSERT INTO customers (id, status, canceled_at, churn_reason, first_seen_at, last_event_at)
           VALUES (?, ?, ?, ?, 0, 0)`,
        ).bind(
          `cus_l${String(i).padStart(2, "0")}`,
          i % 7 === 0 ? "active" : "canceled",
          NOW - (5 + i * 5) * DAY,
          reasons[i % 5]!,
        ),
      ),
    );
    const audienceSql = deployedRuleset().ruleset.campaigns.get("spring_winback")!.audienceSql;
    // dsl/expr/sql.ts now writes lists of plain names as literals itself; rebuild the bound form to compare.
    expect(audienceSql.sql).toContain("IN ('shutting_down', 'other')");
    const boundIndex =
      audienceSql.sql.slice(0, audienceSql.sql.indexOf("IN ('shutting_down'")).split("?").length - 1;
    const bound: SqlFragment = {
      sql: audienceSql.sql.replace("IN ('shutting_down', 'other')", "IN (SELECT value FROM json_each(?))"),
      params: [
        ...audienceSql.params.slice(0, boundIndex),
        '["shutting_down","other"]',
        ...audienceSql.params.slice(boundIndex),
      ],
    };
    const inlined = inlineLiteralLists(bound);
    expect(inlined).toEqual(audienceSql);

    const before = await select(bound);
    const after = await select(inlined);
    expect(after.ids).toEqual(before.ids);
    expect(after.ids.length).toBeGreaterThan(0);
    expect(after.rowsRead).toBeLessThan(before.rowsRead);
  });

  it("keeps a list bound when it holds anything but plain names or numbers, and keeps parameter order", () => {
    const fragment: SqlFragment = {
      sql: "(c.plan = ?) AND c.country IN (SELECT value FROM json_each(?)) AND c.nps > ? AND c.email IN (SELECT value FROM json_each(?))",
      params: ["pro", '["DE", "FR"]', 6, '["a@example.com", "it\'s"]'],
    };
    expect(inlineLiteralLists(fragment)).toEqual({
      sql: "(c.plan = ?) AND c.country IN ('DE', 'FR') AND c.nps > ? AND c.email IN (SELECT value FROM json_each(?))",
      params: ["pro", 6, '["a@example.com", "it\'s"]'],
    });
  });
});
