// `POST /v1/admin/plan` against what the ticks then do. A seeded population (failed payments of
// every age, some already paid; cancellations for every reason; quiet and busy customers; cards
// about to expire; campaign audiences) is planned over 14 days under the shipped rules and under a
// change (a shorter dunning cadence, a wider segment, a shorter win-back), then the real tick runs
// every hour over the same days, once per ruleset, on the same data. What the plan predicted for
// each programme step, each final action and each campaign occurrence is what the ticks did.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { PlanReport } from "../../dsl/plan-report";
import { checkRuleset } from "../../dsl/rules/check";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { loadRuleset, type Ruleset } from "../../dsl/runtime/ruleset";
import campaignsYaml from "../../rules/campaigns.yaml?raw";
import dunningYaml from "../../rules/dunning.yaml?raw";
import inactivityYaml from "../../rules/inactivity.yaml?raw";
import messagesYaml from "../../rules/messages.yaml?raw";
import offersYaml from "../../rules/offers.yaml?raw";
import rewardsYaml from "../../rules/rewards.yaml?raw";
import segmentsYaml from "../../rules/segments.yaml?raw";
import settingsYaml from "../../rules/settings.yaml?raw";
import { runTick } from "../../worker/tick/run-tick";
import { prng } from "../prng";
import { call, issueKey } from "./helpers";
import { at, DAY, events, HOUR, isoOf, resetTick } from "./tick-fixtures";

const T0 = at("2031-05-06T12:00:00Z");
const DAYS = 14;

const SHIPPED: Record<string, string> = {
  "rules/campaigns.yaml": campaignsYaml,
  "rules/dunning.yaml": dunningYaml,
  "rules/inactivity.yaml": inactivityYaml,
  "rules/messages.yaml": messagesYaml,
  "rules/offers.yaml": offersYaml,
  "rules/rewards.yaml": rewardsYaml,
  "rules/segments.yaml": segmentsYaml,
  "rules/settings.yaml": settingsYaml,
};

function compile(files: Record<string, string>): { ir: RulesetIR; ruleset: Ruleset } {
  const check = checkRuleset(Object.entries(files).map(([path, text]) => ({ path, text })));
  expect(check.diagnostics.filter((d) => d.severity !== "warning")).toEqual([]);
  const ir = JSON.parse(JSON.stringify(check.ruleset)) as RulesetIR;
  return { ir, ruleset: loadRuleset(ir) };
}

function replaced(text: string, from: string | RegExp, to: string): string {
  const next = text.replace(from, to);
  expect(next, `the shipped rules still contain ${String(from)}`).not.toBe(text);
  return next;
}

/** The change a marketer makes: a shorter cadence, a wider segment, a shorter price win-back. */
function changedRules(): Record<string, string> {
  return {
    ...SHIPPED,
    "rules/dunning.yaml": replaced(
      SHIPPED["rules/dunning.yaml"]!,
      /steps:\n(\s+- \{ day: \d+, message: \w+ \}\n)+\s+final:\n\s+day: 30/,
      `steps:
      - { day: 0, message: dunning_day_0 }
      - { day: 2, message: dunning_day_3 }
      - { day: 5, message: dunning_day_7 }
    final:
      day: 10`,
    ),
    "rules/segments.yaml": replaced(SHIPPED["rules/segments.yaml"]!, "ltv >= $500", "ltv >= $100"),
    "rules/campaigns.yaml": replaced(
      SHIPPED["rules/campaigns.yaml"]!,
      "{ day: 7, message: winback_whats_new }\n      - { day: 30, message: winback_offer, offer: best, fallback_message: winback_whats_new_short }",
      "{ day: 3, message: winback_whats_new }\n      - { day: 10, message: winback_offer, offer: best, fallback_message: winback_whats_new_short }",
    ),
  };
}

const REASONS = [
  "too_expensive",
  "switched_to_competitor",
  "technical_issues",
  "hard_to_use",
  "missing_features",
  "poor_service",
  "unused",
  "shutting_down",
  "other",
];
const PLANS = ["starter", "pro", "business"];
const ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC"];

/** The population, the same for every run: whole hours, so hourly ticks meet every due instant. */
async function seed(): Promise<void> {
  const random = prng(20311206);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const hoursAgo = (maxDays: number) => T0 - Math.floor(random() * maxDays * 24) * HOUR;
  const batch: Parameters<typeof events> = [];
  for (let n = 0; n < 160; n++) {
    const id = `cus_${String(n).padStart(3, "0")}`;
    const since = T0 - 300 * DAY + n * HOUR;
    const plan = pick(PLANS);
    batch.push(
      [
        "customer.updated",
        id,
        since,
        { email: `${id}@example.com`, first_name: "Ada", timezone: pick(ZONES) },
      ],
      ["subscription.started", id, since, { plan, mrr: plan === "starter" ? 900 : 4900, currency: "USD" }],
    );
    // Lifetime values from $100 to $900: the changed segment takes in more of them.
    if (n % 3 === 0)
      batch.push(["order.completed", id, since + DAY, { amount: 10_000 + n * 500, currency: "USD" }]);
    const kind = n % 4;
    if (kind === 0) {
      const failed = hoursAgo(35);
      batch.push([
        "payment.failed",
        id,
        failed,
        {
          invoice_id: `in_${id}`,
          amount: 4900,
          currency: "USD",
          card_last4: "4242",
          update_url: "https://pay.example/u",
        },
      ]);
      if (n % 16 === 0)
        batch.push([
          "payment.succeeded",
          id,
          Math.min(T0, failed + 2 * DAY),
          { invoice_id: `in_${id}`, amount: 4900, currency: "USD" },
        ]);
    } else if (kind === 1) {
      batch.push(["subscription.canceled", id, hoursAgo(200), { reason: pick(REASONS) }]);
    } else if (kind === 2) {
      batch.push(["activity", id, hoursAgo(40), {}]);
    } else {
      batch.push(["activity", id, hoursAgo(3), {}]);
      const expires = T0 + Math.floor(random() * 45 * 24) * HOUR;
      batch.push(["card.expiring", id, hoursAgo(2), { expires_at: isoOf(expires) }]);
    }
  }
  for (let start = 0; start < batch.length; start += 200) await events(...batch.slice(start, start + 200));
}

async function reset(): Promise<void> {
  await resetTick();
  await env.DB.batch(["event_days", "redemptions"].map((table) => env.DB.prepare(`DELETE FROM ${table}`)));
}

interface Observed {
  steps: Map<string, number>;
  finals: Map<string, number>;
  cancels: number;
  campaigns: Map<string, Record<string, number>>;
}

/** Runs the real tick every hour over the plan's days and reads what it stored. */
async function tickThrough(ruleset: Ruleset): Promise<Observed> {
  for (let hour = 0; hour <= DAYS * 24; hour++) {
    const report = await runTick(env, T0 + hour * HOUR, { ruleset });
    expect(report.errors).toEqual([]);
  }
  const until = T0 + DAYS * DAY;
  const sends = await env.DB.prepare(
    `SELECT programme_kind AS kind, programme_key AS key, step, count(*) AS n FROM sends
     WHERE programme_kind <> 'campaign' AND created_at >= ?1 AND created_at <= ?2 GROUP BY 1, 2, 3`,
  )
    .bind(T0, until)
    .all<{ kind: string; key: string; step: string; n: number }>();
  const finals = await env.DB.prepare(
    `SELECT cadence, count(*) AS n FROM dunning_cases WHERE status = 'final' AND closed_at <= ?1 GROUP BY 1`,
  )
    .bind(until)
    .all<{ cadence: string; n: number }>();
  const cancels = await env.DB.prepare(
    "SELECT count(*) AS n FROM events WHERE id LIKE 'rebound:dunning:%:cancel'",
  ).first<{ n: number }>();
  const runs = await env.DB.prepare(
    "SELECT campaign, occurrence, step, stats FROM campaign_runs WHERE status = 'done' AND due_at <= ?1",
  )
    .bind(until)
    .all<{ campaign: string; occurrence: string; step: string; stats: string }>();
  return {
    steps: new Map(sends.results.map((row) => [`${row.kind}/${row.key}/${row.step}`, row.n])),
    finals: new Map(finals.results.map((row) => [row.cadence, row.n])),
    cancels: cancels?.n ?? 0,
    campaigns: new Map(
      runs.results.map((run) => {
        const { audience, sent, holdout, frequency_capped, deferred, no_offer } = JSON.parse(run.stats);
        return [
          `${run.campaign}/${run.occurrence}/${run.step}`,
          { audience, sent, holdout, frequency_capped, deferred, no_offer },
        ];
      }),
    ),
  };
}

/** What the plan predicted for one side, in the shape `tickThrough` observes. */
function predicted(plan: PlanReport, side: "before" | "after"): Observed {
  const steps = new Map<string, number>();
  const finals = new Map<string, number>();
  let cancels = 0;
  for (const row of plan.programmes) {
    const counts = row[side];
    if (!counts) continue;
    for (const [step, n] of Object.entries(counts.steps)) steps.set(`${row.programme}/${row.key}/${step}`, n);
    if (row.programme === "dunning" && counts.final_actions > 0) finals.set(row.key, counts.final_actions);
    cancels += counts.cancels;
  }
  const campaigns = new Map<string, Record<string, number>>();
  for (const row of plan.campaigns) {
    const stats = row[side];
    if (stats && stats.audience > 0)
      campaigns.set(`${row.campaign}/${row.occurrence}/${row.step}`, { ...stats });
  }
  return { steps, finals, cancels, campaigns };
}

/** Observed runs with an empty audience are not predictions of anything. */
function withAudience(observed: Observed): Observed {
  return {
    ...observed,
    campaigns: new Map([...observed.campaigns].filter(([, stats]) => (stats.audience ?? 0) > 0)),
  };
}

let adminKey = "";
beforeEach(async () => {
  await reset();
  adminKey = await issueKey(["admin"]);
});

async function plan(
  body: Record<string, unknown>,
): Promise<{ status: number; body: { plan: PlanReport } & Record<string, unknown> }> {
  return call("/v1/admin/plan", { key: adminKey, body });
}

describe("rebound plan, against the ticks that follow", () => {
  it("predicts every send, final action and campaign audience of the next 14 days, old rules and new", async () => {
    const shipped = compile(SHIPPED);
    const changed = compile(changedRules());
    await seed();

    const answer = await plan({
      ruleset: changed.ir,
      base: shipped.ir,
      at: isoOf(T0),
      days: DAYS,
      page_size: 2000,
    });
    expect(answer.status).toBe(200);
    const report = answer.body.plan;
    expect(report.customers).toBe(160);
    expect(report.next_cursor).toBeNull();

    // The shorter cadence closes accounts the shipped one leaves alone for now.
    const standard = report.programmes.find((row) => row.programme === "dunning" && row.key === "standard")!;
    expect(standard.after!.final_actions).toBeGreaterThan(standard.before!.final_actions);
    expect(standard.after!.cancels).toBe(standard.after!.final_actions);
    const highValue = report.segments.find((row) => row.segment === "high_value")!;
    expect(highValue.entering).toBeGreaterThan(0);
    expect(highValue.leaving).toBe(0);

    const before = await tickThrough(shipped.ruleset);
    expect(withAudience(before)).toEqual(predicted(report, "before"));

    await reset();
    await seed();
    const after = await tickThrough(changed.ruleset);
    expect(withAudience(after)).toEqual(predicted(report, "after"));
  }, 300_000);
});

describe("the plan route", () => {
  it("adds up to the same plan whatever the page size, and writes nothing", async () => {
    const changed = compile(changedRules());
    await seed();
    const counts = async () =>
      env.DB.prepare(
        `SELECT (SELECT count(*) FROM sends) AS sends, (SELECT count(*) FROM decisions) AS decisions,
           (SELECT count(*) FROM dunning_cases) AS cases, (SELECT count(*) FROM campaign_runs) AS runs,
           (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM tick_state) AS marks`,
      ).first();
    const beforeCounts = await counts();
    const whole = (await plan({ ruleset: changed.ir, at: isoOf(T0), page_size: 2000 })).body.plan;
    expect(whole.base.source).toBe("deployed");
    const pages: PlanReport[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: PlanReport = (
        await plan({ ruleset: changed.ir, at: isoOf(T0), page_size: 37, ...(cursor ? { cursor } : {}) })
      ).body.plan;
      pages.push(page);
      cursor = page.next_cursor;
    }
    expect(pages.length).toBe(5);
    expect(pages.reduce((sum, page) => sum + page.customers, 0)).toBe(whole.customers);
    expect(pages.reduce((sum, page) => sum + page.customers_with_offer_moves, 0)).toBe(
      whole.customers_with_offer_moves,
    );
    const sum = (pick: (page: PlanReport) => number) => pages.reduce((total, page) => total + pick(page), 0);
    for (const row of whole.programmes) {
      const find = (page: PlanReport) =>
        page.programmes.find((r) => r.programme === row.programme && r.key === row.key);
      expect(sum((page) => find(page)?.after?.sends ?? 0)).toBe(row.after?.sends ?? 0);
      expect(sum((page) => find(page)?.after?.final_actions ?? 0)).toBe(row.after?.final_actions ?? 0);
    }
    for (const row of whole.segments) {
      expect(sum((page) => page.segments.find((r) => r.segment === row.segment)!.entering)).toBe(
        row.entering,
      );
    }
    expect(await counts()).toEqual(beforeCounts);
  });

  it("shows a reason's offers moving, and each move's customers get its `from` offer from the API today", async () => {
    const changed = compile(changedRules());
    await seed();
    const report = (await plan({ ruleset: changed.ir, at: isoOf(T0), page_size: 2000 })).body.plan;
    const price = report.offers.find(
      (row) => row.context === "cancel_flow" && row.reason === "too_expensive",
    )!;
    // The wider high_value segment moves price churners to the high-value offer.
    const toHighValue = price.moves.filter((move) => move.to === "price_high_value");
    expect(toHighValue.reduce((sum, move) => sum + move.customers, 0)).toBeGreaterThan(0);
    expect(price.cost_before.USD).toBeGreaterThan(0);
    // Each customer once, however many asks their offer moves in.
    const moveCount = report.offers.reduce(
      (sum, row) => sum + row.moves.reduce((n, move) => n + move.customers, 0),
      0,
    );
    expect(report.customers_with_offer_moves).toBeGreaterThan(0);
    expect(report.customers_with_offer_moves).toBeLessThan(moveCount);
    // A reason whose offers the change does not touch does not move.
    const hardToUse = report.offers.find(
      (row) => row.context === "cancel_flow" && row.reason === "hard_to_use",
    )!;
    expect(hardToUse.moves).toEqual([]);
    expect(hardToUse.unchanged).toBe(report.customers);
    // The deployed rules are the base: the decision API answers each example with the move's `from`.
    for (const move of price.moves) {
      for (const id of move.examples) {
        const asked = await call("/v1/decisions", {
          key: adminKey,
          body: { customer_id: id, context: "cancel_flow", reason: "too_expensive" },
          headers: { "x-rebound-now": isoOf(T0) },
        });
        expect(asked.status).toBe(200);
        expect(asked.body.offer?.key ?? null, id).toBe(move.from);
      }
    }
  });

  it("refuses a body that is not a plan request, with the place of each problem", async () => {
    const answer = await call("/v1/admin/plan", {
      key: adminKey,
      body: { ruleset: { format: 999 }, days: 0, at: "tomorrow", extra: 1 },
    });
    expect(answer.status).toBe(400);
    const paths = answer.body.error.details.map((detail: { path: string }) => detail.path).sort();
    expect(paths).toEqual(["/at", "/days", "/extra", "/ruleset"]);
    expect((await call("/v1/admin/plan", { key: adminKey, body: {} })).body.error.details).toEqual([
      expect.objectContaining({ path: "/ruleset" }),
    ]);
    const decisionsKey = await issueKey(["decisions:read"]);
    expect((await call("/v1/admin/plan", { key: decisionsKey, body: {} })).status).toBe(403);
  });

  it("plans rules without card reminders", async () => {
    const dunning = SHIPPED["rules/dunning.yaml"]!;
    const withoutCards = compile({
      ...SHIPPED,
      "rules/dunning.yaml": dunning.slice(0, dunning.indexOf("card_expiry:")),
    });
    expect(withoutCards.ruleset.cardExpiry).toBeNull();
    await seed();
    const answer = await plan({ ruleset: withoutCards.ir, base: withoutCards.ir, at: isoOf(T0) });
    expect(answer.status).toBe(200);
    expect(answer.body.plan.customers).toBe(160);
  });

  it("shows a step whose delay changed as a row per due time", async () => {
    const later = compile({
      ...SHIPPED,
      "rules/campaigns.yaml": replaced(
        SHIPPED["rules/campaigns.yaml"]!,
        "      - after: 5d\n        message: winback_offer",
        "      - after: 6d\n        message: winback_offer",
      ),
    });
    await seed();
    const report = (await plan({ ruleset: later.ir, at: isoOf(T0), days: 30 })).body.plan;
    // The long-copy variant's second step moves to day 6, a row the shipped rules do not have; the
    // short-copy variant keeps its own day-5 step, a row on both sides.
    const secondSteps = report.campaigns.filter((row) => row.step === "1");
    const delay = (row: { due_at: string; occurrence: string }) =>
      Date.parse(row.due_at) - Date.parse(row.occurrence);
    const moved = secondSteps.filter((row) => delay(row) === 6 * DAY);
    expect(moved.length).toBeGreaterThan(0);
    for (const row of moved) expect(row).toMatchObject({ before: null, after: expect.any(Object) });
    for (const row of secondSteps.filter((r) => delay(r) === 5 * DAY))
      expect(row).toMatchObject({ before: expect.any(Object), after: expect.any(Object) });
  });
});

describe("a plan over a case part-way through its cadence", () => {
  it("counts no step the tick drops as sent long ago, when a changed cadence makes it due again", async () => {
    const shipped = compile(SHIPPED);
    // Without its day-14 step, a case whose last step was day 14 is at day 7 again: sent 9 days ago.
    const noDay14 = compile({
      ...SHIPPED,
      "rules/dunning.yaml": replaced(
        SHIPPED["rules/dunning.yaml"]!,
        "      - { day: 14, message: dunning_day_14 }\n",
        "",
      ),
    });
    const failedAt = T0 - 16 * DAY;
    await events(
      ["customer.updated", "cus_mid", failedAt - 90 * DAY, { email: "mid@example.com" }],
      ["subscription.started", "cus_mid", failedAt - 90 * DAY, { plan: "pro", mrr: 4900, currency: "USD" }],
      [
        "payment.failed",
        "cus_mid",
        failedAt,
        { invoice_id: "in_mid", amount: 4900, currency: "USD", update_url: "https://pay.example/u" },
      ],
    );
    for (const day of [0, 3, 7, 14])
      await runTick(env, failedAt + day * DAY + HOUR, { ruleset: shipped.ruleset });
    const report = (await plan({ ruleset: noDay14.ir, at: isoOf(T0), days: DAYS, page_size: 2000 })).body
      .plan;
    const after = await tickThrough(noDay14.ruleset);
    expect(withAudience(after)).toEqual(predicted(report, "after"));
    expect(after.steps.get("dunning/standard/day-7")).toBeUndefined();
  }, 120_000);
});

describe("a plan while a campaign run is unfinished", () => {
  it("counts the rest of a run an earlier tick left part-way, as the next tick resumes it", async () => {
    const shipped = compile(SHIPPED);
    await seed();
    const occurrence = at("2031-05-06T14:00:00Z");
    // A tick with a small budget pauses the occurrence part-way through its audience.
    const paused = await runTick(env, occurrence + 5 * 60_000, {
      ruleset: shipped.ruleset,
      queryBudget: 52,
      audiencePageSize: 5,
    });
    expect(paused.campaigns.find((run) => run.campaign === "spring_winback")?.status).toBe("paused");
    const sentBefore = await campaignSends();

    const later = occurrence + 4 * HOUR;
    const report = (await plan({ ruleset: shipped.ir, at: isoOf(later), days: 1, page_size: 2000 })).body
      .plan;
    const row = report.campaigns.find(
      (r) => r.campaign === "spring_winback" && r.occurrence === isoOf(occurrence) && r.step === "0",
    );
    expect(row?.after?.sent).toBeGreaterThan(0);

    for (let hour = 0; hour <= 24; hour++)
      await runTick(env, later + hour * HOUR, { ruleset: shipped.ruleset });
    expect((await campaignSends()) - sentBefore).toBe(row!.after!.sent);
  }, 120_000);
});

/** Step-0 sends of the spring campaign's occurrence of 2031-05-06. */
async function campaignSends(): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT count(*) AS n FROM sends WHERE programme_kind = 'campaign' AND programme_key = 'spring_winback'
       AND occurrence = '2031-05-06T14:00:00.000Z' AND step = '0'`,
  ).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("a plan that renames a dunning cadence", () => {
  it("counts the open cases the renamed cadence would strand", async () => {
    const shipped = compile(SHIPPED);
    const renamed = compile({
      ...SHIPPED,
      "rules/dunning.yaml": replaced(
        SHIPPED["rules/dunning.yaml"]!,
        "  - key: standard",
        "  - key: standard_v2",
      ),
    });
    await events(
      ["subscription.started", "cus_open", T0 - 90 * DAY, { plan: "pro", mrr: 4900, currency: "USD" }],
      ["payment.failed", "cus_open", T0 - 2 * DAY, { invoice_id: "in_open", amount: 4900, currency: "USD" }],
    );
    await runTick(env, T0 - DAY, { ruleset: shipped.ruleset });
    const report = (await plan({ ruleset: renamed.ir, at: isoOf(T0), page_size: 2000 })).body.plan;
    expect(report.open_cases_without_cadence).toEqual({ before: 0, after: 1 });
  });
});
