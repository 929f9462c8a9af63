// `rebound plan` end to end: the CLI compiles a changed copy of rules/, pages through the plan route
// of the built Worker under a real `wrangler dev`, and prints a pull-request comment; then the real
// tick runs every hour over the same days through `POST /v1/admin/tick`, with the deployed rules,
// and sends exactly the programme steps and final actions the plan predicted for them.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { PlanReport } from "../../dsl/plan-report";
import { useDevServer } from "./dev-server";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAYS = 10;
// Every time in this test is a whole hour, so hourly ticks meet each due instant exactly.
const T0 = Math.floor(Date.now() / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const smoke = useDevServer("rebound-smoke-plan-", { REBOUND_ALLOW_FUTURE_TICKS: "true" });
const rulesCopy = mkdtempSync(join(tmpdir(), "rebound-plan-rules-"));
afterAll(() => rmSync(rulesCopy, { recursive: true, force: true }));

/** rules/ with the dunning cadence shortened to days 0, 2, 5 and a final action on day 10. */
function changedRules(): string {
  cpSync(join(ROOT, "rules"), rulesCopy, { recursive: true });
  const file = join(rulesCopy, "dunning.yaml");
  const text = readFileSync(file, "utf8");
  const changed = text.replace(
    /steps:\n(\s+- \{ day: \d+, message: \w+ \}\n)+\s+final:\n\s+day: 30/,
    `steps:
      - { day: 0, message: dunning_day_0 }
      - { day: 2, message: dunning_day_3 }
      - { day: 5, message: dunning_day_7 }
    final:
      day: 10`,
  );
  expect(changed).not.toBe(text);
  writeFileSync(file, changed);
  return rulesCopy;
}

async function plan(format: "json" | "markdown"): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [
      join(ROOT, "dsl/cli/bin.mjs"),
      "plan",
      rulesCopy,
      "--url",
      smoke.url,
      "--key",
      smoke.adminKey,
      "--at",
      iso(T0),
      "--days",
      String(DAYS),
      "--page-size",
      "7",
      "--format",
      format,
    ],
    { cwd: ROOT },
  );
  return stdout;
}

/** 30 customers: failed payments 0 to 28 days old, cancellations, quiet and busy customers. */
async function seed(): Promise<void> {
  const events = [];
  for (let n = 0; n < 30; n++) {
    const id = `plan-${String(n).padStart(2, "0")}`;
    const since = T0 - 200 * DAY;
    events.push(
      {
        id: `${id}-u`,
        type: "customer.updated",
        customer_id: id,
        occurred_at: iso(since),
        properties: { email: `${id}@example.com` },
      },
      {
        id: `${id}-s`,
        type: "subscription.started",
        customer_id: id,
        occurred_at: iso(since),
        properties: { plan: "pro", mrr: 4900, currency: "USD" },
      },
    );
    if (n % 3 === 0) {
      events.push({
        id: `${id}-f`,
        type: "payment.failed",
        customer_id: id,
        occurred_at: iso(T0 - n * DAY - (n % 5) * HOUR),
        properties: {
          invoice_id: `in_${id}`,
          amount: 4900,
          currency: "USD",
          card_last4: "4242",
          update_url: "https://pay.example/u",
        },
      });
    } else if (n % 3 === 1) {
      events.push({
        id: `${id}-c`,
        type: "subscription.canceled",
        customer_id: id,
        occurred_at: iso(T0 - n * 2 * DAY),
        properties: { reason: "too_expensive" },
      });
    } else {
      events.push({
        id: `${id}-a`,
        type: "activity",
        customer_id: id,
        occurred_at: iso(T0 - n * DAY),
        properties: {},
      });
    }
  }
  const answer = await smoke.request("POST", "/v1/events", smoke.adminKey, { events });
  expect(answer.status).toBe(200);
}

describe("rebound plan against wrangler dev", () => {
  it("prints the change as a pull-request comment, and the ticks then do what it predicted", async () => {
    await seed();
    changedRules();
    const report = JSON.parse(await plan("json")) as PlanReport;
    expect(report.customers).toBe(30);
    expect(report.cost.pages).toBe(5);
    const standard = report.programmes.find((row) => row.programme === "dunning" && row.key === "standard")!;
    // Failures older than 10 days are closed by the shorter cadence at once; the shipped one waits.
    expect(standard.after!.final_actions).toBeGreaterThan(standard.before!.final_actions);

    const markdown = await plan("markdown");
    expect(markdown).toMatch(/^\*\*Rebound plan:\*\*/);
    expect(markdown).toContain("final actions");
    expect(markdown).toMatch(/^\|.*\|$/m);

    // The deployed (shipped) rules tick hourly over the same days.
    const steps = new Map<string, number>();
    let finals = 0;
    for (let hour = 0; hour <= DAYS * 24; hour++) {
      const answer = await smoke.request("POST", "/v1/admin/tick", smoke.adminKey, {
        at: iso(T0 + hour * HOUR),
      });
      expect(answer.status).toBe(200);
      const tick = answer.body.tick;
      expect(tick.errors).toEqual([]);
      for (const [key, n] of Object.entries(tick.dunning.steps as Record<string, number>))
        steps.set(`dunning/${key}`, (steps.get(`dunning/${key}`) ?? 0) + n);
      for (const [key, n] of Object.entries(tick.lifecycle.steps as Record<string, number>))
        steps.set(key, (steps.get(key) ?? 0) + n);
      finals += tick.dunning.final_actions;
    }
    const predicted = new Map<string, number>();
    let predictedFinals = 0;
    for (const row of report.programmes) {
      for (const [step, n] of Object.entries(row.before?.steps ?? {}))
        predicted.set(`${row.programme}/${row.key}/${step}`, n);
      if (row.programme === "dunning") predictedFinals += row.before?.final_actions ?? 0;
    }
    expect(steps).toEqual(predicted);
    expect(finals).toBe(predictedFinals);
  }, 240_000);
});
