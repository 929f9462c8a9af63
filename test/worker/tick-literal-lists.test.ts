// The tick's audience SQL writes lists out as literals (the SQL compiler's `lists: "literal"`): same
// rows as the bound form (missing values included), fewer D1 rows read, and lists it cannot write
// out stay bound.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseExpression } from "../../dsl/expr/parser";
import { bindSql, expressionToSql } from "../../dsl/expr/sql";
import type { SqlFragment } from "../../dsl/expr/types";
import { deployedRuleset } from "../../worker/deployed-ruleset";

const NOW = Date.parse("2031-03-04T15:00:00Z");
const DAY = 86_400_000;
const BOUND_LIST = "IN (SELECT value FROM json_each(?))";

async function select(fragment: SqlFragment) {
  const { results, meta } = await env.DB.prepare(
    `SELECT c.id FROM customers c WHERE (${fragment.sql}) AND c.id > '' ORDER BY c.id`,
  )
    .bind(...bindSql(fragment, NOW))
    .all<{ id: string }>();
  return { ids: results.map((row) => row.id), rowsRead: meta.rows_read };
}

const noSegments = {
  segment: (name: string): SqlFragment => {
    throw new Error(`unexpected segment ${name}`);
  },
};

describe("literal lists in audience SQL", () => {
  it("selects exactly the same customers as the bound form, at one row read per customer instead of two", async () => {
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
    const ruleset = deployedRuleset();
    const campaign = ruleset.campaigns.get("spring_winback")!;
    const audienceSql = campaign.audienceSql;
    expect(audienceSql.sql).toContain("IN ('shutting_down', 'other')");
    // The ruleset compiled the audience with the SQL compiler's literal lists.
    expect(
      expressionToSql(
        campaign.ir.audience.ast,
        { scope: ruleset.scope, ...noSegments },
        { lists: "literal" },
      ),
    ).toEqual(audienceSql);
    // The bound form of the same list, to compare with.
    const boundIndex =
      audienceSql.sql.slice(0, audienceSql.sql.indexOf("IN ('shutting_down'")).split("?").length - 1;
    const bound: SqlFragment = {
      sql: audienceSql.sql.replace("IN ('shutting_down', 'other')", BOUND_LIST),
      params: [
        ...audienceSql.params.slice(0, boundIndex),
        '["shutting_down","other"]',
        ...audienceSql.params.slice(boundIndex),
      ],
    };

    const before = await select(bound);
    const after = await select(audienceSql);
    expect(after.ids).toEqual(before.ids);
    expect(after.ids.length).toBeGreaterThan(0);
    expect(after.rowsRead).toBeLessThan(before.rowsRead);
  });

  it("keeps a list bound when it holds anything but plain names or numbers, and keeps parameter order", () => {
    const { scope } = deployedRuleset();
    const ast = parseExpression(
      `email == "a b" and country in ["en-GB", "fr-FR"] and nps > 6.5 and nps not in [9.5, 10]
       and email in ["a@example.com", "it's"]`,
    ).ast!;
    const emails = JSON.stringify(["a@example.com", "it's"]);
    const bound = expressionToSql(ast, { scope, ...noSegments });
    expect(bound.params).toEqual(["a b", '["en-GB","fr-FR"]', 6.5, "[9.5,10]", emails]);
    const literal = expressionToSql(ast, { scope, ...noSegments }, { lists: "literal" });
    expect(literal).toEqual({
      sql: bound.sql.replace(BOUND_LIST, "IN ('en-GB', 'fr-FR')").replace(BOUND_LIST, "IN (9.5, 10)"),
      params: ["a b", 6.5, emails],
    });
    expect(literal.sql).toContain(`c.email IN (SELECT value FROM json_each(?))`);
  });
});
