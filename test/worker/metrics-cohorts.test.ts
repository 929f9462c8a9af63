// The metrics read from cohorts at request time, and the lists behind the figures: a campaign with a
// holdout whose held-out customers are known from the bucketing, conversions inside, outside and on
// the last day of the attribution window; win-back with reactivations, a re-churn and revenue; keyset
// pages with no duplicate or gap; CSV quoting and the formula guard; who may read them.
// Everything goes through the real paths: ingest over POST /v1/events, the tick, the send consumer,
// decisions by the tick's offers, and the API through fetch.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { campaignAssignment, liftAgainstHoldout, type Ruleset, type StepIR } from "../../dsl";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { inHoldout } from "../../dsl/runtime/bucket";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { createApp } from "../../worker/api/app";
import { ROUTES } from "../../worker/api/route-table";
import { ruleset as deployedIr } from "../../worker/generated/ruleset";
import { consumeSends } from "../../worker/sends/consume";
import { runTick } from "../../worker/tick/run-tick";
import { issueKey } from "./helpers";
import { receiverPath } from "./receiver";
import { webhookEnv } from "./sends-fixtures";
import { at, DAY, events, MINUTE } from "./tick-fixtures";

async function clearTables(): Promise<void> {
  await env.DB.batch(
    [
      "campaign_runs",
      "campaign_exclusions",
      "tick_state",
      "dunning_cases",
      "sends",
      "outbox",
      "redemptions",
      "decisions",
      "events",
      "event_days",
      "customers",
    ].map((table) => env.DB.prepare(`DELETE FROM ${table}`)),
  );
}

beforeEach(clearTables);

/** The deployed rules, reporting in UTC, with only the programmes a test is about. */
function rules(edit: (ir: RulesetIR) => void): Ruleset {
  const ir = structuredClone(deployedIr) as RulesetIR;
  ir.metrics = { timezone: "UTC", winbackWindowMs: 90 * DAY };
  ir.inactivity = [];
  edit(ir);
  return loadRuleset({ ...ir, version: `${ir.version}+metrics-cohorts` });
}

/** A GET on the API with `ruleset`, as `key`, optionally at a simulated now (admin keys only). */
async function get(ruleset: Ruleset, path: string, key: string, now?: number) {
  const app = createApp(ROUTES, { ruleset: () => ruleset });
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (now !== undefined) headers["x-rebound-now"] = new Date(now).toISOString();
  const response = await app.fetch(new Request(`http://rebound.test${path}`, { headers }), env);
  const text = await response.text();
  const isJson = response.headers.get("content-type")?.startsWith("application/json") ?? false;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely and assert on them
  const body: any = isJson ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body };
}

// ---------------------------------------------------------------------------------------------
// Campaign: spring_winback ("0 10 * * TUE" in New York), a 50% holdout, two 50/50 copy variants,
// conversion = subscription.reactivated within 14d. The occurrence of Tuesday 2031-03-04 is due at
// 15:00 UTC; the tick runs a minute later, so every send and exclusion has that reference time.

const OCCURRENCE = at("2031-03-04T15:00:00Z");
const RUN_AT = OCCURRENCE + MINUTE;
const EXPERIMENT = "spring_winback_copy";

const campaignRules = rules((ir) => {
  ir.winback = [];
  const campaign = ir.campaigns.find((c) => c.key === "spring_winback")!;
  campaign.frequencyCap = null;
  campaign.quietHours = null;
  campaign.experiment = { ...campaign.experiment!, key: EXPERIMENT, holdoutPercent: 50 };
  campaign.conversion = { event: "subscription.reactivated", within: "14d", withinMs: 14 * DAY };
});

/**
 * The ticks send by a webhook that has no secret: a send the consumer takes dies at once (the rest
 * stay queued, as the tests drive the consumer themselves).
 */
const brokenWebhook = webhookEnv(receiverPath("metrics-dead"), { WEBHOOK_SECRET: undefined });

const MEMBERS = Array.from({ length: 80 }, (_, i) => `cus_m${String(i).padStart(3, "0")}`);

/**
 * When each member reactivates, if at all. The window of a send at 2031-03-04T15:01Z runs to the
 * end of the UTC day 14 days later, 2031-03-18T23:59:59.999Z.
 */
function reactivation(index: number): number | null {
  if (index === 3) return at("2031-03-18T22:00:00Z"); // the window's last day, after the exact 14d: counts
  if (index === 7) return at("2031-03-19T00:30:00Z"); // the day after: does not
  if (index === 11) return at("2031-03-04T10:00:00Z"); // the send's day, before the send (arrives late): does not
  if (index % 4 === 0) return RUN_AT + 2 * DAY; // inside: counts
  if (index % 4 === 1) return RUN_AT + 20 * DAY; // outside: does not
  return null;
}
const converts = (index: number) => index === 3 || index % 4 === 0;

async function runCampaign(): Promise<void> {
  const since = OCCURRENCE - 365 * DAY;
  const canceled = OCCURRENCE - 30 * DAY;
  const items: Parameters<typeof events> = [];
  for (const id of MEMBERS) {
    items.push(
      ["customer.updated", id, since, { email: `${id}@example.com`, first_name: "Sam" }],
      ["subscription.started", id, since, { plan: "pro", mrr: 4900, currency: "USD" }],
      ["subscription.canceled", id, canceled, { reason: "too_expensive" }],
    );
  }
  await events(...items);
  await runTick(brokenWebhook, RUN_AT, { ruleset: campaignRules });
  // Reactivations arrive after the run (the day-0 one late), so every member was in the audience.
  const later: Parameters<typeof events> = [];
  for (const [index, id] of MEMBERS.entries()) {
    const when = reactivation(index);
    if (when !== null) later.push(["subscription.reactivated", id, when, { plan: "pro", mrr: 4900 }]);
  }
  await events(...later);
}

/** Delivers one send through the real consumer: with no webhook secret it dies. */
async function killSend(sendId: string): Promise<void> {
  const batch = createMessageBatch("rebound-sends", [
    { id: `m_${sendId}`, timestamp: new Date(RUN_AT), attempts: 1, body: { v: 1, sendId } },
  ]);
  await consumeSends(batch, brokenWebhook, { clock: () => RUN_AT, ruleset: campaignRules });
  await getQueueResult(batch, createExecutionContext());
}

// Intention to treat: the same campaign with the marketing cap at one message per 8 days and a
// single step that carries an offer and no fallback message. The early members were canceled long
// enough to be in last week's occurrence (2031-02-25, 15:00 UTC too): those not held out were sent
// it, so this week the cap leaves them out. The offerless members canceled for missing features on
// a plan the feature unlock does not serve: the rules give them no offer, so the step skips them.

const PREVIOUS = OCCURRENCE - 7 * DAY;

const ittRules = rules((ir) => {
  ir.winback = [];
  ir.frequencyCaps = ir.frequencyCaps.map((cap) =>
    cap.key === "marketing" ? { ...cap, max: 1, perMs: 8 * DAY } : cap,
  );
  const offerStep = (step: StepIR): StepIR => ({
    ...step,
    message: "winback_offer",
    offer: "best",
    fallbackMessage: null,
  });
  const campaign = ir.campaigns.find((c) => c.key === "spring_winback")!;
  campaign.frequencyCap = "marketing";
  campaign.quietHours = null;
  campaign.steps = [offerStep(campaign.steps[0]!)];
  campaign.experiment = {
    ...campaign.experiment!,
    key: EXPERIMENT,
    holdoutPercent: 50,
    variants: campaign.experiment!.variants.map((variant) => ({
      ...variant,
      steps: variant.steps === null ? null : [offerStep(variant.steps[0]!)],
    })),
  };
  campaign.conversion = { event: "subscription.reactivated", within: "14d", withinMs: 14 * DAY };
});

const ittIds = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, "0")}`);
const ITT_REGULAR = ittIds("cus_t", 64);
const ITT_EARLY = ittIds("cus_te", 12);
const ITT_OFFERLESS = ittIds("cus_tn", 12);
const ITT_MEMBERS = [...ITT_REGULAR, ...ITT_EARLY, ...ITT_OFFERLESS];
/** Every other member of each kind reactivates two days after the run. */
const ittConverts = (id: string) => Number(id.slice(-3)) % 2 === 0;

async function runIttCampaign() {
  const since = OCCURRENCE - 365 * DAY;
  const items: Parameters<typeof events> = [];
  const member = (id: string, plan: string, reason: string, canceled: number) =>
    items.push(
      ["customer.updated", id, since, { email: `${id}@example.com`, first_name: "Sam" }],
      ["subscription.started", id, since, { plan, mrr: 4900, currency: "USD" }],
      ["subscription.canceled", id, canceled, { reason }],
    );
  // 20 days before this week's run is 13 before last week's: too recent for last week's audience.
  for (const id of ITT_REGULAR) member(id, "pro", "unused", OCCURRENCE - 20 * DAY);
  for (const id of ITT_EARLY) member(id, "pro", "unused", OCCURRENCE - 60 * DAY);
  for (const id of ITT_OFFERLESS) member(id, "business", "missing_features", OCCURRENCE - 20 * DAY);
  await events(...items);
  const previous = await runTick(brokenWebhook, PREVIOUS + MINUTE, { ruleset: ittRules });
  const report = await runTick(brokenWebhook, RUN_AT, { ruleset: ittRules });
  await events(
    ...ITT_MEMBERS.filter(ittConverts).map((id): Parameters<typeof events>[number] => [
      "subscription.reactivated",
      id,
      RUN_AT + 2 * DAY,
      { plan: "pro", mrr: 4900 },
    ]),
  );
  return { previous, report };
}

describe("GET /v1/metrics/campaigns", () => {
  it("counts audience, sends, holdout and conversions per step and variant, with lift against the holdout", async () => {
    await runCampaign();
    const campaign = campaignRules.campaigns.get("spring_winback")!;
    // The hand count: who is held out is the bucketing's (deterministic by id), who converted is above.
    const held = MEMBERS.filter((id) => inHoldout(EXPERIMENT, id, 50));
    const treated = MEMBERS.filter((id) => !held.includes(id));
    const variantOf = (id: string) => campaignAssignment(campaign, id).variant;
    const convertedIn = (ids: string[]) => ids.filter((id) => converts(MEMBERS.indexOf(id))).length;
    // Both groups must be large enough for a lift (30 each), whatever the bucketing's hash.
    expect(held.length).toBeGreaterThanOrEqual(30);
    expect(treated.length).toBeGreaterThanOrEqual(30);
    const holdout = { conversions: convertedIn(held), n: held.length };

    // One treated send dies: failed counts it, and it stays treated (the campaign meant to send it).
    const victim = treated.find((id) => variantOf(id) === "long_copy")!;
    const victimSend = await env.DB.prepare(
      "SELECT id FROM sends WHERE customer_id = ? AND programme_kind = 'campaign'",
    )
      .bind(victim)
      .first<{ id: string }>();
    await killSend(victimSend!.id);
    // The Worker's own queue consumer may also take sends in the background (it has no webhook
    // address in tests, so those die too): count what failed from the sends themselves.
    const failedRows = await env.DB.prepare(
      `SELECT variables ->> 'variant' AS variant, count(*) AS n FROM sends
       WHERE programme_kind = 'campaign' AND programme_key = 'spring_winback' AND status IN ('failed', 'dead')
       GROUP BY 1`,
    ).all<{ variant: string; n: number }>();
    const failedIn = (variant: string) => failedRows.results.find((row) => row.variant === variant)?.n ?? 0;
    expect(failedIn("long_copy")).toBeGreaterThanOrEqual(1);

    const key = await issueKey(["metrics:read"]);
    const { status, body } = await get(
      campaignRules,
      "/v1/metrics/campaigns?from=2031-03-01&to=2031-03-31",
      key,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ timezone: "UTC", from: "2031-03-01", to: "2031-03-31" });
    expect(body.cost.queries).toBe(3);
    expect(body.campaigns).toHaveLength(1);
    const [figures] = body.campaigns;
    expect(figures).toMatchObject({
      campaign: "spring_winback",
      conversion: { event: "subscription.reactivated", within: "14d" },
      occurrences: 1,
    });
    expect(figures.steps).toHaveLength(1);
    const [step] = figures.steps;
    expect(step.step).toBe("0");

    const arm = (variant: string) => treated.filter((id) => variantOf(id) === variant);
    const expectedRow = (variant: string) => {
      const ids = arm(variant);
      return {
        variant,
        audience: ids.length,
        assigned: ids.length,
        sent: ids.length,
        failed: failedIn(variant),
        held_out: 0,
        frequency_capped: 0,
        no_offer: 0,
        conversions: convertedIn(ids),
        conversion_rate: convertedIn(ids) / ids.length,
      };
    };
    expect(step.variants).toEqual([
      expectedRow("long_copy"),
      expectedRow("short_copy"),
      // The tick holds customers out before it draws a variant: they are the row without one.
      {
        variant: null,
        audience: held.length,
        assigned: 0,
        sent: 0,
        failed: 0,
        held_out: held.length,
        frequency_capped: 0,
        no_offer: 0,
        conversions: 0,
        conversion_rate: null,
      },
    ]);
    expect(step.holdout).toEqual({ ...holdout, conversion_rate: holdout.conversions / holdout.n });

    // Lift of each variant and of everyone treated, exactly what dsl's liftAgainstHoldout says.
    expect(step.lift).toEqual([
      {
        variant: "long_copy",
        ...liftAgainstHoldout({
          treated: { conversions: convertedIn(arm("long_copy")), n: arm("long_copy").length },
          holdout,
        }),
      },
      {
        variant: "short_copy",
        ...liftAgainstHoldout({
          treated: { conversions: convertedIn(arm("short_copy")), n: arm("short_copy").length },
          holdout,
        }),
      },
      {
        variant: null,
        ...liftAgainstHoldout({ treated: { conversions: convertedIn(treated), n: treated.length }, holdout }),
      },
    ]);
    const all = step.lift[2];
    expect(all.enough).toBe(true);
    const treatedRate = convertedIn(treated) / treated.length;
    expect(all.treated_rate).toBeCloseTo(treatedRate, 12);
    expect(all.absolute.lift).toBeCloseTo(treatedRate - holdout.conversions / holdout.n, 12);
    // Each variant's arm is under 30 customers: the answer says so instead of a number.
    expect(step.lift[0].enough).toBe(false);
    expect(step.lift[0].why).toMatch(/at least 30 in each group/);

    // A period without the run has no campaigns; ?campaign= of another has none either.
    const april = await get(campaignRules, "/v1/metrics/campaigns?from=2031-04-01&to=2031-04-30", key);
    expect(april.body.campaigns).toEqual([]);
    const other = await get(
      campaignRules,
      "/v1/metrics/campaigns?from=2031-03-01&to=2031-03-31&campaign=x",
      key,
    );
    expect(other.body.campaigns).toEqual([]);
  });

  it("gives a later step the first step's holdout as its reason, not an empty holdout", async () => {
    await runCampaign();
    // Step 1 comes five days after the occurrence; the held-out customers get no step at all.
    await runTick(brokenWebhook, OCCURRENCE + 5 * DAY + MINUTE, { ruleset: campaignRules });
    const key = await issueKey(["metrics:read"]);
    const { body } = await get(campaignRules, "/v1/metrics/campaigns?from=2031-03-01&to=2031-03-31", key);
    const [figures] = body.campaigns;
    expect(figures.steps.map((step: { step: string }) => step.step)).toEqual(["0", "1"]);
    const [first, later] = figures.steps;
    expect(first.holdout.n).toBeGreaterThanOrEqual(30);
    // The first step keeps its own answer (a number, or its own reason when an arm is too small).
    expect(
      first.lift.some((entry: { why?: string }) => entry.why?.startsWith("the holdout is drawn once")),
    ).toBe(false);
    expect(later.holdout.n).toBe(0);
    expect(later.lift.length).toBeGreaterThan(0);
    for (const entry of later.lift) {
      expect(entry).toMatchObject({
        enough: false,
        why: "the holdout is drawn once, at the campaign's first step: that step's lift is the campaign's, later steps included",
      });
    }
  });

  it("counts frequency-capped and offerless customers in their variant's treated group (intention to treat)", async () => {
    const { previous, report } = await runIttCampaign();
    const campaign = ittRules.campaigns.get("spring_winback")!;
    const held = (id: string) => inHoldout(EXPERIMENT, id, 50);
    const variantOf = (id: string) => campaignAssignment(campaign, id).variant;
    const capped = ITT_EARLY.filter((id) => !held(id));
    const offerless = ITT_OFFERLESS.filter((id) => !held(id));
    const sent = ITT_REGULAR.filter((id) => !held(id));
    const heldOut = ITT_MEMBERS.filter(held);
    // The bucketing must leave each kind on both sides for the case to mean anything.
    expect(capped.length).toBeGreaterThanOrEqual(3);
    expect(offerless.length).toBeGreaterThanOrEqual(3);
    expect(ITT_EARLY.length - capped.length).toBeGreaterThanOrEqual(1);
    expect(capped.filter(ittConverts).length).toBeGreaterThanOrEqual(2);

    // Last week the early members not held out were sent the step: this week's cap is full for them.
    expect(previous.campaigns[0]).toMatchObject({ audience: ITT_EARLY.length, sent: capped.length });
    // The tick left a row for every member: a send, or an exclusion saying why not.
    expect(report.campaigns[0]).toMatchObject({
      status: "done",
      audience: ITT_MEMBERS.length,
      sent: sent.length,
      holdout: heldOut.length,
      frequency_capped: capped.length,
      no_offer: offerless.length,
    });
    const { results: offerlessRows } = await env.DB.prepare(
      "SELECT customer_id, detail FROM campaign_exclusions WHERE reason = 'no_offer' ORDER BY customer_id",
    ).all();
    expect(offerlessRows).toEqual(offerless.map((id) => ({ customer_id: id, detail: variantOf(id) })));

    const key = await issueKey(["metrics:read"]);
    const { body } = await get(ittRules, "/v1/metrics/campaigns?from=2031-03-01&to=2031-03-31", key);
    const [step] = body.campaigns[0].steps;
    // By hand: a variant's treated group is everyone assigned to it and not held out.
    const inVariant = (ids: string[], variant: string) => ids.filter((id) => variantOf(id) === variant);
    const treatedOf = (variant: string) => [
      ...inVariant(sent, variant),
      ...inVariant(capped, variant),
      ...inVariant(offerless, variant),
    ];
    const converted = (ids: string[]) => ids.filter(ittConverts).length;
    const expectedRow = (variant: string) => {
      const treated = treatedOf(variant);
      return {
        variant,
        audience: treated.length,
        assigned: treated.length,
        sent: inVariant(sent, variant).length,
        failed: expect.any(Number),
        held_out: 0,
        frequency_capped: inVariant(capped, variant).length,
        no_offer: inVariant(offerless, variant).length,
        conversions: converted(treated),
        conversion_rate: converted(treated) / treated.length,
      };
    };
    expect(step.variants).toEqual([
      expectedRow("long_copy"),
      expectedRow("short_copy"),
      {
        variant: null,
        audience: heldOut.length,
        assigned: 0,
        sent: 0,
        failed: 0,
        held_out: heldOut.length,
        frequency_capped: 0,
        no_offer: 0,
        conversions: 0,
        conversion_rate: null,
      },
    ]);
    const holdout = { conversions: converted(heldOut), n: heldOut.length };
    expect(step.holdout).toEqual({ ...holdout, conversion_rate: holdout.conversions / holdout.n });
    const everyone = [...sent, ...capped, ...offerless];
    expect(step.lift).toEqual([
      {
        variant: "long_copy",
        ...liftAgainstHoldout({
          treated: { conversions: converted(treatedOf("long_copy")), n: treatedOf("long_copy").length },
          holdout,
        }),
      },
      {
        variant: "short_copy",
        ...liftAgainstHoldout({
          treated: { conversions: converted(treatedOf("short_copy")), n: treatedOf("short_copy").length },
          holdout,
        }),
      },
      {
        variant: null,
        ...liftAgainstHoldout({ treated: { conversions: converted(everyone), n: everyone.length }, holdout }),
      },
    ]);
    // The capped customers' conversions are on the treated side: counting only the sent ones
    // (the bias this guards against) would give another rate.
    expect(step.lift[2].treated).toEqual({ conversions: converted(everyone), n: everyone.length });
    expect(everyone.length).toBeGreaterThanOrEqual(30);
    expect(step.lift[2].enough).toBe(true);
    expect(step.lift[2].treated_rate).not.toBeCloseTo(converted(sent) / sent.length, 6);

    // The list names each group, with the variant the customer was assigned.
    const base = "/v1/metrics/campaigns/customers?from=2031-03-01&to=2031-03-31&campaign=spring_winback";
    for (const [group, ids] of [
      ["frequency_capped", capped],
      ["no_offer", offerless],
    ] as const) {
      const list = await get(ittRules, `${base}&group=${group}`, key);
      expect(list.status).toBe(200);
      expect(
        list.body.items.map((item: { customer_id: string; variant: string; converted: boolean }) => [
          item.customer_id,
          item.variant,
          item.converted,
        ]),
      ).toEqual(ids.map((id) => [id, variantOf(id), ittConverts(id)]));
    }
    const convertedCapped = await get(ittRules, `${base}&group=frequency_capped&converted=true`, key);
    expect(convertedCapped.body.items.map((item: { customer_id: string }) => item.customer_id)).toEqual(
      capped.filter(ittConverts),
    );
  });

  it("lists the audience by group and conversion, in pages with no duplicate or gap", async () => {
    await runCampaign();
    const key = await issueKey(["metrics:read"]);
    const base = "/v1/metrics/campaigns/customers?from=2031-03-01&to=2031-03-31&campaign=spring_winback";
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(
        campaignRules,
        `${base}&limit=7${cursor === null ? "" : `&cursor=${cursor}`}`,
        key,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.items.map((item: { customer_id: string }) => item.customer_id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(12);
    expect(seen).toEqual([...MEMBERS].sort());

    const heldConverted = await get(campaignRules, `${base}&group=holdout&converted=true`, key);
    const expected = MEMBERS.filter((id, index) => inHoldout(EXPERIMENT, id, 50) && converts(index));
    expect(heldConverted.body.items.map((item: { customer_id: string }) => item.customer_id)).toEqual(
      expected,
    );
    expect(heldConverted.body.items[0]).toMatchObject({
      campaign: "spring_winback",
      occurrence: "2031-03-04T15:00:00.000Z",
      step: "0",
      group: "holdout",
      variant: null,
      send_status: null,
      at: new Date(RUN_AT).toISOString(),
      converted: true,
    });
    // The boundary-day customer converted; the day-after and the late same-day ones did not.
    const treatedOnly = await get(campaignRules, `${base}&group=treated&limit=500`, key);
    const byId = new Map(
      treatedOnly.body.items.map((item: { customer_id: string }) => [item.customer_id, item]),
    );
    for (const index of [3, 7, 11]) {
      const item = byId.get(MEMBERS[index]!) as { converted: boolean } | undefined;
      if (item) expect(item.converted).toBe(index === 3);
    }
    expect(JSON.stringify(treatedOnly.body)).not.toContain("@example.com");
  });
  it("reads a page's worth of rows, not the audience: 200 or 1,000 members cost the same", async () => {
    const key = await issueKey(["metrics:read"]);
    const base = "/v1/metrics/campaigns/customers?from=2031-03-01&to=2031-03-31&limit=50";
    const costs: number[][] = [];
    for (const size of [200, 1000]) {
      await clearTables();
      const ids = Array.from({ length: size }, (_, i) => `cus_c${String(i).padStart(4, "0")}`);
      const items: Parameters<typeof events> = ids.flatMap(
        (id): Parameters<typeof events> => [
          ["subscription.started", id, OCCURRENCE - 365 * DAY, { plan: "pro", mrr: 4900, currency: "USD" }],
          ["subscription.canceled", id, OCCURRENCE - 30 * DAY, { reason: "too_expensive" }],
        ],
      );
      for (let start = 0; start < items.length; start += 500)
        await events(...items.slice(start, start + 500));
      const report = await runTick(brokenWebhook, RUN_AT, { ruleset: campaignRules });
      expect(report.campaigns[0]).toMatchObject({ status: "done", audience: size });

      const first = await get(campaignRules, base, key);
      const second = await get(campaignRules, `${base}&cursor=${first.body.next_cursor}`, key);
      const held = await get(campaignRules, `${base}&group=holdout`, key);
      for (const page of [first, second, held]) expect(page.body.items).toHaveLength(50);
      // The second page starts where the first stopped: the 50 customers after it, in order.
      expect(second.body.items.map((item: { customer_id: string }) => item.customer_id)).toEqual(
        ids.slice(50, 100),
      );
      costs.push([first, second, held].map((page) => page.body.cost.rows_read));
    }
    const [small, large] = costs as [number[], number[]];
    for (const [index, rowsRead] of large.entries()) {
      // About two rows per member listed (its send or exclusion, and the page's sort), plus the run.
      expect(rowsRead).toBeLessThanOrEqual(3 * 50);
      expect(Math.abs(rowsRead - small[index]!)).toBeLessThanOrEqual(5);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Win-back: the `price` sequence (day 7, 30, 60 after a too_expensive cancellation). Five customers
// cancel on 2031-01-05 12:00Z; the tick sends day 7 on 2031-01-12 12:01Z (their first message) and
// day 30 on 2031-02-04 12:01Z. The window is 90 days: to the end of 2031-04-12 (UTC).

const CANCELED = at("2031-01-05T12:00:00Z");
const FIRST = CANCELED + 7 * DAY + MINUTE;
const winbackRules = rules((ir) => {
  ir.campaigns = [];
});

async function runWinback(): Promise<void> {
  const since = CANCELED - 200 * DAY;
  const customers = ["cus_w1", "cus_w2", "cus_w3", "cus_w4", "cus_w5"];
  const items: Parameters<typeof events> = [];
  for (const id of customers) {
    items.push(
      ["customer.updated", id, since, { email: `${id}@example.com`, first_name: "Ada" }],
      ["subscription.started", id, since, { plan: "pro", mrr: 4900, currency: "USD" }],
      ["subscription.canceled", id, CANCELED, { reason: "too_expensive" }],
    );
  }
  await events(...items);
  await runTick(brokenWebhook, FIRST, { ruleset: winbackRules });
  await runTick(brokenWebhook, CANCELED + 30 * DAY + MINUTE, { ruleset: winbackRules });
  const reactivatedW1 = at("2031-01-22T12:01:00Z");
  await events(
    // w1 comes back after 10 days, pays twice in USD, and cancels again 20 days later.
    ["subscription.reactivated", "cus_w1", reactivatedW1, { plan: "pro", mrr: 4900 }],
    [
      "payment.succeeded",
      "cus_w1",
      reactivatedW1 + 10 * MINUTE,
      { invoice_id: "in_w1a", amount: 4900, currency: "USD" },
    ],
    [
      "payment.succeeded",
      "cus_w1",
      at("2031-02-22T12:00:00Z"),
      { invoice_id: "in_w1b", amount: 4900, currency: "USD" },
    ],
    ["subscription.canceled", "cus_w1", reactivatedW1 + 20 * DAY, { reason: "too_expensive" }],
    // w3 comes back the day after the window's last day: not a win-back.
    ["subscription.reactivated", "cus_w3", at("2031-04-13T00:30:00Z"), { plan: "pro", mrr: 4900 }],
    // w4 starts a new subscription after 5 days and pays in EUR.
    [
      "subscription.started",
      "cus_w4",
      at("2031-01-17T12:01:00Z"),
      { plan: "pro", mrr: 2900, currency: "EUR" },
    ],
    [
      "payment.succeeded",
      "cus_w4",
      at("2031-01-17T13:00:00Z"),
      { invoice_id: "in_w4", amount: 2900, currency: "EUR" },
    ],
    // w5 comes back on the window's last day, after the exact 90 days: it counts.
    ["subscription.reactivated", "cus_w5", at("2031-04-12T20:00:00Z"), { plan: "pro", mrr: 4900 }],
  );
}

describe("GET /v1/metrics/winback", () => {
  it("counts targeted, reactivated, revenue since and re-churn over matured reactivations", async () => {
    await runWinback();
    const admin = await issueKey(["admin"]);
    const january = "/v1/metrics/winback?from=2031-01-01&to=2031-01-31";
    const june = await get(winbackRules, january, admin, at("2031-06-01T00:00:00Z"));
    expect(june.status).toBe(200);
    expect(june.body).toMatchObject({
      timezone: "UTC",
      from: "2031-01-01",
      to: "2031-01-31",
      window: "90d",
      targeted: 5,
      reactivated: 3,
      reactivation_rate: 0.6,
      revenue_since_reactivation: [
        { currency: "EUR", amount: 2900 },
        { currency: "USD", amount: 9800 },
      ],
      // By June every reactivation is 30 days old; w5's (April 12) is not yet 90 days old.
      reactivated_30d_ago: 3,
      rechurned_30d: 1,
      rechurn_rate_30d: 1 / 3,
      reactivated_90d_ago: 2,
      rechurned_90d: 1,
      rechurn_rate_90d: 0.5,
      by_sequence: [{ sequence: "price", targeted: 5, reactivated: 3, reactivation_rate: 0.6 }],
      periods: [
        { start: "2031-01-01", end: "2031-01-31", targeted: 5, reactivated: 3, reactivation_rate: 0.6 },
      ],
    });
    expect(june.body.cost.queries).toBe(1);

    // On March 1 no reactivation is 90 days old: no count and no rate, rather than a low one.
    const march = await get(winbackRules, january, admin, at("2031-03-01T00:00:00Z"));
    expect(march.body).toMatchObject({
      reactivated_30d_ago: 2,
      rechurned_30d: 1,
      rechurn_rate_30d: 0.5,
      reactivated_90d_ago: 0,
      rechurned_90d: 0,
      rechurn_rate_90d: null,
    });

    // February holds only day-30 messages, none a first message: nobody was targeted then.
    const february = await get(
      winbackRules,
      "/v1/metrics/winback?from=2031-02-01&to=2031-02-28",
      admin,
      at("2031-06-01T00:00:00Z"),
    );
    expect(february.body).toMatchObject({ targeted: 0, reactivated: 0, reactivation_rate: null });
  });

  it("lists who reactivated and who re-churned, a page at a time", async () => {
    await runWinback();
    const admin = await issueKey(["admin"]);
    const now = at("2031-06-01T00:00:00Z");
    const base = "/v1/metrics/winback/customers?from=2031-01-01&to=2031-01-31";
    const first = await get(winbackRules, `${base}&status=reactivated&limit=2`, admin, now);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await get(
      winbackRules,
      `${base}&status=reactivated&limit=2&cursor=${first.body.next_cursor}`,
      admin,
      now,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((item) => item.customer_id).sort();
    expect(ids).toEqual(["cus_w1", "cus_w4", "cus_w5"]);

    const rechurned = await get(winbackRules, `${base}&status=rechurned`, admin, now);
    expect(rechurned.body.items).toEqual([
      {
        customer_id: "cus_w1",
        sequence: "price",
        canceled_at: "2031-01-05T12:00:00.000Z",
        targeted_at: new Date(FIRST).toISOString(),
        first_send_id: expect.stringMatching(/^snd_/),
        reactivated_at: "2031-01-22T12:01:00.000Z",
        rechurned_at: "2031-02-11T12:01:00.000Z",
        rechurned_within_30d: true,
        rechurned_within_90d: true,
        revenue_since_reactivation: [{ currency: "USD", amount: 9800 }],
      },
    ]);

    const csv = await get(winbackRules, `${base}&status=reactivated&limit=2&format=csv`, admin, now);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe(
      'attachment; filename="winback-reactivated-2031-01-01-2031-01-31.csv"',
    );
    expect(csv.headers.get("link")).toBe(
      `<http://rebound.test${base}&status=reactivated&limit=2&format=csv&cursor=${first.body.next_cursor}>; rel="next"`,
    );
    const lines = (csv.body as string).split("\r\n");
    expect(lines[0]).toBe(
      "customer_id,sequence,canceled_at,targeted_at,first_send_id,reactivated_at,rechurned_at,rechurned_within_30d,rechurned_within_90d,revenue_since_reactivation",
    );
    expect(lines).toHaveLength(4); // header, two rows, and the empty string after the last CRLF
  });
});

// ---------------------------------------------------------------------------------------------

describe("the other lists", () => {
  it("quote CSV cells as RFC 4180 says and keep a spreadsheet from running a formula", async () => {
    const canceledAt = at("2031-05-10T08:00:00Z");
    const ids = ['=HYPERLINK("http://x.example","a,b")', "@SUM(A1)", "-2+3", "cus_plain"];
    for (const id of ids) {
      await events(
        ["subscription.started", id, canceledAt - 100 * DAY, { plan: "pro", mrr: 4900, currency: "USD" }],
        ["subscription.canceled", id, canceledAt, { reason: "too_expensive" }],
      );
    }
    const key = await issueKey(["metrics:read"]);
    const { status, headers, body } = await get(
      winbackRules,
      "/v1/metrics/cancellations/customers?from=2031-05-01&to=2031-05-31&format=csv",
      key,
    );
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(headers.get("link")).toBeNull();
    const lines = (body as string).split("\r\n");
    expect(lines[0]).toBe("customer_id,canceled_at,reason,involuntary,plan,mrr_lost,currency,signed_up_at");
    const firstCells = lines.slice(1, -1).map((line) => line.slice(0, line.indexOf(",20")));
    expect(firstCells.sort()).toEqual(
      [`"'=HYPERLINK(""http://x.example"",""a,b"")"`, "'-2+3", "'@SUM(A1)", "cus_plain"].sort(),
    );
    expect(lines[1]).toMatch(
      /,2031-05-10T08:00:00.000Z,too_expensive,false,pro,4900,USD,2031-01-30T08:00:00.000Z$/,
    );

    const json = await get(
      winbackRules,
      "/v1/metrics/cancellations/customers?from=2031-05-01&to=2031-05-31&limit=2",
      key,
    );
    expect(json.body.items).toHaveLength(2);
    const rest = await get(
      winbackRules,
      `/v1/metrics/cancellations/customers?from=2031-05-01&to=2031-05-31&limit=2&cursor=${json.body.next_cursor}`,
      key,
    );
    const listed = [...json.body.items, ...rest.body.items].map((item) => item.customer_id);
    expect(listed.sort()).toEqual([...ids].sort());
    expect(rest.body.next_cursor).toBeNull();
  });

  it("list offers made, recent decisions and sends that died, without a recipient address", async () => {
    await runWinback(); // the day-30 step of `price` carries an offer: decisions in the winback context
    const key = await issueKey(["metrics:read"]);
    const offers = await get(winbackRules, "/v1/metrics/offers/decisions?from=2031-02-01&to=2031-02-28", key);
    expect(offers.status).toBe(200);
    expect(offers.body.items.length).toBeGreaterThan(0);
    for (const item of offers.body.items) {
      expect(item).toMatchObject({ context: "winback", created_at: "2031-02-04T12:01:00.000Z" });
      expect(item.offer_key).toEqual(expect.any(String));
    }
    const accepted = await get(
      winbackRules,
      "/v1/metrics/offers/decisions?from=2031-02-01&to=2031-02-28&status=accepted",
      key,
    );
    expect(accepted.body.items).toEqual([]);

    const recent = await get(winbackRules, "/v1/metrics/decisions/recent?limit=1", key);
    expect(recent.body.items).toHaveLength(1);
    expect(Object.keys(recent.body.items[0]).sort()).toEqual(
      [
        "context",
        "created_at",
        "customer_id",
        "holdout",
        "id",
        "offer_key",
        "reason",
        "reason_code",
        "ruleset_version",
        "status",
        "variant",
        "why",
      ].sort(),
    );
    expect(recent.body.items[0].ruleset_version).toBe(winbackRules.version);

    const sendId = (await env.DB.prepare("SELECT id FROM sends ORDER BY id LIMIT 1").first<{ id: string }>())!
      .id;
    await killSend(sendId);
    const problems = await get(winbackRules, "/v1/metrics/sends/problems", key);
    expect(problems.body.items).toEqual([
      expect.objectContaining({ id: sendId, status: "dead", programme_kind: "winback", attempts: 1 }),
    ]);
    expect(JSON.stringify(problems.body)).not.toContain("@example.com");
    expect(problems.body.items[0]).not.toHaveProperty("recipient");
  });

  it("refuse unknown parameters, bad values and cursors that are not theirs", async () => {
    const key = await issueKey(["metrics:read"]);
    const bad = await get(
      winbackRules,
      "/v1/metrics/winback/customers?status=won&limit=501&cursor=nope!&colour=red",
      key,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    expect(bad.body.error.details.map((detail: { path: string }) => detail.path).sort()).toEqual(
      ["?colour", "?cursor", "?limit", "?status"].sort(),
    );
    const interval = await get(winbackRules, "/v1/metrics/dunning/cases?interval=day", key);
    expect(interval.status).toBe(400);
    expect(interval.body.error.details[0].path).toBe("?interval");
  });
});

describe("who may read the metrics", () => {
  it("a metrics:read or admin key may; an events:write or decisions:read key may not", async () => {
    const paths = [
      "/v1/metrics/winback",
      "/v1/metrics/campaigns",
      "/v1/metrics/winback/customers",
      "/v1/metrics/offers/decisions",
      "/v1/metrics/campaigns/customers",
      "/v1/metrics/cancellations/customers",
      "/v1/metrics/dunning/cases",
      "/v1/metrics/decisions/recent",
      "/v1/metrics/sends/problems",
    ];
    const reader = await issueKey(["metrics:read"]);
    const admin = await issueKey(["admin"]);
    const writer = await issueKey(["events:write"]);
    const decider = await issueKey(["decisions:read"]);
    for (const path of paths) {
      expect((await get(winbackRules, path, reader)).status, path).toBe(200);
      expect((await get(winbackRules, path, admin)).status, path).toBe(200);
      const refused = await get(winbackRules, path, writer);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
      expect((await get(winbackRules, path, decider)).status, path).toBe(403);
    }
  });
});
