// Smoke test: the dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against the built Worker under `wrangler dev`, with data made through the real API.
// It signs in, waits for the charts, and checks every figure the page shows (each element's
// `data-metric`) against the API's own answer to the same question, at a laptop's and a phone's size.
// Screenshots go to test/smoke/.screenshots/ (git-ignored).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignAssignment, previousOccurrence } from "../../dsl";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { type Json, useDevServer } from "./dev-server";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(import.meta.dirname, ".screenshots");
// The flags Chromium needs on a machine with a closed network and no GPU (the machine notes).
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Sends go out by email through the send_email binding (miniflare's locally, which logs each message):
// a customer with no email address on file cannot be sent one, and that send dies at once, which is
// what the failed-sends card shows.
const smoke = useDevServer("rebound-smoke-dashboard-", {
  DEFAULT_CHANNEL: "cloudflare_email",
  EMAIL_FROM: "Acme Analytics <hello@acme.example>",
});
let browser: Browser | undefined;
let readerKey = "";

/** A figure as the page shows it: the API field, its value, how it is written, and the text. */
interface ShownFigure {
  metric: string;
  value: unknown;
  format: string;
  currency: string | null;
  text: string;
}

const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const admin = (method: string, path: string, body?: unknown) =>
  smoke.request(method, path, smoke.adminKey, body);

/** The event that gives `id` an email address, so messages can reach them. */
const emailOf = (id: string, at: string) => ({
  id: `${id}-email`,
  type: "customer.updated",
  customer_id: id,
  occurred_at: at,
  properties: { email: `${id}@example.com` },
});

async function ingest(events: unknown[]): Promise<void> {
  // The API takes at most 500 events a request.
  for (let i = 0; i < events.length; i += 500) {
    const ingested = await admin("POST", "/v1/events", { events: events.slice(i, i + 500) });
    expect(ingested.status).toBe(200);
  }
}

/** Four customers: one cancels (and is offered a way back), one upgrades, one stays, one's payment fails. */
async function makeHistory(): Promise<void> {
  const started = (id: string, days: number, plan: string, mrr: number) => [
    {
      id: `${id}-start`,
      type: "subscription.started",
      customer_id: id,
      occurred_at: ago(days),
      properties: { plan, mrr, currency: "USD" },
    },
    emailOf(id, ago(days)),
  ];
  const events = [
    ...started("dash-canceler", 120, "pro", 4900),
    {
      id: "dash-canceler-cancel",
      type: "subscription.canceled",
      customer_id: "dash-canceler",
      occurred_at: ago(12),
      properties: { reason: "too_expensive" },
    },
    ...started("dash-upgrader", 100, "starter", 1900),
    {
      id: "dash-upgrader-change",
      type: "subscription.changed",
      customer_id: "dash-upgrader",
      occurred_at: ago(30),
      properties: { plan: "pro", mrr: 4900, previous_plan: "starter", previous_mrr: 1900 },
    },
    ...started("dash-stayer", 60, "pro", 4900),
    ...started("dash-late-payer", 90, "pro", 4900),
    {
      id: "dash-late-payer-failed",
      type: "payment.failed",
      customer_id: "dash-late-payer",
      occurred_at: ago(3),
      properties: {
        invoice_id: "in_dash_1",
        amount: 4900,
        currency: "USD",
        decline_code: "insufficient_funds",
      },
    },
  ];
  await ingest(events);
  const tick = await admin("POST", "/v1/admin/tick", { at: new Date().toISOString() });
  expect(tick.status).toBe(200);
  // A decision for the recent-decisions table: the canceled customer asks for a win-back offer.
  const decided = await admin("GET", "/v1/customers/dash-canceler/next-offer?context=winback");
  expect(decided.status).toBe(200);
}

/** What `makeWinback` made, for the figures the test expects. */
interface WinbackStory {
  /** MRR the reactivated customers brought back. */
  reactivatedMrr: number;
  /** Cancellations made, by reason: count and MRR lost. */
  canceled: Record<string, { count: number; mrr: number }>;
  /** The sends that cannot reach their customer: [programme kind, customer, step], sorted. */
  unreachable: [string, string, string][];
}

type CampaignGroup = "holdout" | "long_copy" | "short_copy";
/** Customers of the campaign's step 0 per group (a lift needs 30 in each), and how many reactivate. */
const CAMPAIGN_GROUPS: Record<CampaignGroup, { n: number; converted: number }> = {
  holdout: { n: 32, converted: 3 },
  long_copy: { n: 32, converted: 12 },
  short_copy: { n: 32, converted: 8 },
};

/**
 * A weeks-old run of the shipped `spring_winback` campaign and of the price win-back sequence, made
 * with past ticks: 96 customers who canceled three weeks before the run (chosen by the rules' own
 * bucketing so the holdout and each variant get 32, enough for a lift), 23 of them reactivating
 * within the 14 days that count; three who canceled for price seven days before it, sent the
 * sequence's first message (one has no email address: that send dies), two of them coming back.
 * Every event is within the last 90 days: the tick at now may have archived older days, which then
 * take no new events (docs/ingest.md).
 */
async function makeWinback(): Promise<WinbackStory> {
  const spring = deployedRuleset().campaigns.get("spring_winback");
  if (!spring) throw new Error("rules/campaigns.yaml has no spring_winback campaign");
  // The run: the campaign's last occurrence at least three weeks ago, so its 14-day conversion
  // window has closed, and within the dashboard's 30-day view too.
  const run = previousOccurrence(spring.schedule, spring.timezone, Date.now() - 21 * DAY)!;
  const at = (ms: number) => new Date(ms).toISOString();
  const events: unknown[] = [];
  const later: unknown[] = [];
  const story: WinbackStory = { reactivatedMrr: 0, canceled: {}, unreachable: [] };
  const customer = (id: string, startedAt: number, canceledAt: number, reason: string, mrr: number) => {
    const plan = mrr === 1900 ? "starter" : "pro";
    events.push(
      {
        id: `${id}-start`,
        type: "subscription.started",
        customer_id: id,
        occurred_at: at(startedAt),
        properties: { plan, mrr, currency: "USD" },
      },
      {
        id: `${id}-cancel`,
        type: "subscription.canceled",
        customer_id: id,
        occurred_at: at(canceledAt),
        properties: { reason },
      },
    );
    const canceled = story.canceled[reason] ?? { count: 0, mrr: 0 };
    story.canceled[reason] = { count: canceled.count + 1, mrr: canceled.mrr + mrr };
    return {
      withEmail: () => events.push(emailOf(id, at(startedAt))),
      reactivates: (reactivatedAt: number) => {
        later.push({
          id: `${id}-back`,
          type: "subscription.reactivated",
          customer_id: id,
          occurred_at: at(reactivatedAt),
          properties: { plan, mrr },
        });
        story.reactivatedMrr += mrr;
      },
    };
  };

  const filled: Record<CampaignGroup, number> = { holdout: 0, long_copy: 0, short_copy: 0 };
  const full = () =>
    (Object.keys(filled) as CampaignGroup[]).every((g) => filled[g] === CAMPAIGN_GROUPS[g].n);
  for (let n = 1; !full(); n++) {
    const id = `dash-spring-${String(n).padStart(3, "0")}`;
    const assigned = campaignAssignment(spring, id);
    const group = (assigned.holdout ? "holdout" : assigned.variant) as CampaignGroup;
    const index = filled[group];
    if (index === CAMPAIGN_GROUPS[group].n) continue;
    filled[group] = index + 1;
    // poor_service: in the campaign's audience, and in no win-back sequence's reasons.
    const made = customer(
      id,
      run - 45 * DAY,
      run - 20 * DAY - (n % 5) * DAY - (n % 7) * HOUR,
      "poor_service",
      n % 2 === 0 ? 1900 : 4900,
    );
    // The last of long_copy has no address: the campaign's two steps to them die.
    if (group === "long_copy" && index === CAMPAIGN_GROUPS.long_copy.n - 1)
      story.unreachable.push(["campaign", id, "0"], ["campaign", id, "1"]);
    else made.withEmail();
    // The first few of each group come back after step 1 (5 days after the run), within the 14 days.
    if (index < CAMPAIGN_GROUPS[group].converted) made.reactivates(run + 6 * DAY + (index % 7) * DAY);
  }

  // The price sequence's day-7 message is due two hours before the run's tick.
  const canceledForPrice = run - 7 * DAY - 2 * HOUR;
  const payer = customer("dash-winback-payer", run - 40 * DAY, canceledForPrice, "too_expensive", 4900);
  payer.withEmail();
  payer.reactivates(run + 3 * DAY);
  later.push({
    id: "dash-winback-payer-paid",
    type: "payment.succeeded",
    customer_id: "dash-winback-payer",
    occurred_at: at(run + 3 * DAY + HOUR),
    properties: { invoice_id: "in_dash_winback_1", amount: 4900, currency: "USD" },
  });
  const returner = customer("dash-winback-returner", run - 40 * DAY, canceledForPrice, "too_expensive", 4900);
  returner.withEmail();
  returner.reactivates(run + 5 * DAY);
  // No email address: the sequence's message to this customer dies.
  customer("dash-winback-unreachable", run - 40 * DAY, canceledForPrice, "too_expensive", 4900);
  story.unreachable.push(["winback", "dash-winback-unreachable", "day-7"]);
  story.unreachable.sort();

  await ingest(events);
  // Step 0 at the occurrence, step 1 (`after: 5d`) five days later; the profiles are as of now, so
  // the reactivations are told only after both ticks.
  for (const tickAt of [run, run + 5 * DAY]) {
    const tick = await admin("POST", "/v1/admin/tick", { at: at(tickAt) });
    expect(tick.status).toBe(200);
  }
  await ingest(later);
  await sendsSettled();
  return story;
}

/** Waits for the queue consumer to deliver or give up on every send the ticks made. */
async function sendsSettled(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pending = await admin("GET", "/v1/sends?status=queued,sending,failed&limit=1");
    expect(pending.status).toBe(200);
    if (pending.body.sends.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`sends still pending after 60 s: ${JSON.stringify(pending.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

let story: WinbackStory;

beforeAll(async () => {
  await makeHistory();
  story = await makeWinback();
  const created = await admin("POST", "/v1/admin/api-keys", {
    name: "dashboard reader",
    scopes: ["metrics:read"],
  });
  expect(created.status).toBe(201);
  readerKey = created.body.api_key.key;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // playwright-core brings no browser: it drives Debian's, with a fresh profile of its own.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

interface Session {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested, and what the console and the page's script complained of. */
  urls: string[];
  problems: string[];
}

async function openDashboard(viewport: { width: number; height: number }, mobile = false): Promise<Session> {
  if (!browser) throw new Error("Chromium has not started");
  const context = await browser.newContext({
    viewport,
    isMobile: mobile,
    hasTouch: mobile,
    locale: "en-US",
    timezoneId: "UTC",
  });
  const page = await context.newPage();
  const urls: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${smoke.url}/dashboard`);
  return { context, page, urls, problems };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.fill("#key", key);
  // The page is already at /dashboard, so waiting for that URL would not wait at all: wait for the
  // sign-in's answer (303, cookie set) and for the page it leads to.
  const [answer] = await Promise.all([
    page.waitForResponse((response) => response.url() === `${smoke.url}/dashboard/session`),
    page.click("#sign-in button[type=submit]"),
  ]);
  expect(answer.status()).toBe(303);
  await page.waitForURL(`${smoke.url}/dashboard`, { waitUntil: "load" });
}

/** Waits until every card has its answer; says what the page shows when it never does. */
async function waitForCharts(page: Page): Promise<void> {
  try {
    await page.waitForSelector('#dashboard[data-state="ready"]', { timeout: 30_000 });
  } catch (error) {
    const shown = await page.evaluate(() => ({
      url: location.href,
      session: document.body.dataset.session,
      state: document.querySelector<HTMLElement>("#dashboard")?.dataset.state,
      status: document.querySelector("#status")?.textContent,
      signInError: document.querySelector("#sign-in-error")?.textContent,
    }));
    throw new Error(`the dashboard never became ready: ${JSON.stringify(shown)}`, { cause: error });
  }
}

async function shownFigures(page: Page): Promise<ShownFigure[]> {
  return await page.$$eval("[data-metric]", (elements) =>
    elements.map((element) => ({
      metric: element.getAttribute("data-metric")!,
      value: JSON.parse(element.getAttribute("data-value")!) as unknown,
      format: element.getAttribute("data-format")!,
      currency: element.getAttribute("data-currency"),
      text: element.tagName.toLowerCase() === "span" ? (element.textContent ?? "").trim() : "",
    })),
  );
}

/** The exact URL each card was read from, by its source name (`decisions_recent`, ...). */
async function sources(page: Page): Promise<Record<string, string>> {
  return await page.$eval("#dashboard", (root) =>
    Object.fromEntries(
      Array.from(root.attributes)
        .filter((attribute) => attribute.name.startsWith("data-source-"))
        .map((attribute) => [
          attribute.name.slice("data-source-".length).replaceAll("-", "_"),
          attribute.value,
        ]),
    ),
  );
}

/** Asks the API each question the page asked, with the same key as a bearer header. */
async function apiAnswers(urls: Record<string, string>): Promise<Record<string, Json>> {
  const answers: Record<string, Json> = {};
  for (const [source, url] of Object.entries(urls)) {
    const response = await fetch(smoke.url + url, { headers: { authorization: `Bearer ${readerKey}` } });
    expect({ url, status: response.status }).toEqual({ url, status: 200 });
    answers[source] = await response.json();
  }
  return answers;
}

/** The value at `source.path.to.field`, or `a - b` of two such paths. */
function valueAt(answers: Record<string, Json>, metric: string): unknown {
  const difference = metric.split(" - ");
  if (difference.length === 2)
    return (valueAt(answers, difference[0]!) as number) - (valueAt(answers, difference[1]!) as number);
  const [source, ...path] = metric.split(".");
  let value: Json = answers[source!];
  for (const step of path) value = value?.[/^\d+$/.test(step) ? Number(step) : step];
  return value;
}

function minorDigits(currency: string): number {
  return (
    new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ??
    2
  );
}

/** Whether the text the page shows says `value`, read back by its format. */
function textSays(figure: ShownFigure): boolean {
  const { value, text, format } = figure;
  const number = (t: string) => Number(t.replaceAll("−", "-").replace(/[^0-9.-]/g, ""));
  switch (format) {
    case "count":
      return number(text) === value;
    case "money":
      return Math.round(number(text) * 10 ** minorDigits(figure.currency!)) === value;
    case "rate":
      return value === null ? text === "—" : Math.abs(number(text) - (value as number) * 100) <= 0.05 + 1e-9;
    case "points":
      return Math.abs(number(text) - (value as number) * 100) <= 0.05 + 1e-9;
    case "instant": {
      const iso = typeof value === "number" ? new Date(value).toISOString() : String(value);
      return text === iso.replace("T", " ").slice(0, 16);
    }
    default:
      return text === String(value);
  }
}

/** Every figure shown equals the API's answer, in its data and in its text. */
async function expectFiguresMatchTheApi(
  page: Page,
): Promise<{ figures: ShownFigure[]; answers: Record<string, Json> }> {
  const figures = await shownFigures(page);
  const answers = await apiAnswers(await sources(page));
  expect(Object.keys(answers).sort()).toEqual([
    "campaigns",
    "cancellations",
    "decisions_recent",
    "dunning",
    "retention",
    "sends_problems",
    "winback",
  ]);
  for (const figure of figures) {
    expect({ metric: figure.metric, value: figure.value }).toEqual({
      metric: figure.metric,
      value: valueAt(answers, figure.metric),
    });
    if (figure.text !== "")
      expect({ metric: figure.metric, text: figure.text, says: textSays(figure) }).toMatchObject({
        says: true,
      });
  }
  return { figures, answers };
}

const usd = (minor: number) =>
  new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(minor / 100);

/**
 * The win-back funnel, the campaign's lift and the failed sends show the figures of the weeks-old
 * run (`makeWinback`), not the sentence of an empty card, and each lift is either a number on the
 * page or the API's own sentence saying why there is none.
 */
async function expectWinbackCardsFilled(
  page: Page,
  metrics: Set<string>,
  answers: Record<string, Json>,
): Promise<void> {
  for (const card of ["#card-winback", "#card-campaigns", "#card-sends"])
    expect({ card, notes: await page.locator(`${card} p.note`).allTextContents() }).toEqual({
      card,
      notes: [],
    });

  // Win-back: the three price cancellations got the sequence's first message, two came back, and
  // one of them has paid since.
  expect(answers.winback).toMatchObject({
    targeted: 3,
    reactivated: 2,
    revenue_since_reactivation: [{ currency: "USD", amount: 4900 }],
    by_sequence: [{ sequence: "price", targeted: 3, reactivated: 2 }],
  });
  for (const metric of [
    "winback.targeted",
    "winback.reactivated",
    "winback.reactivation_rate",
    "winback.revenue_since_reactivation.0.amount",
    "winback.by_sequence.0.targeted",
    "winback.by_sequence.0.reactivated",
  ])
    expect(metrics).toContain(metric);
  expect(await page.locator("#card-winback .bar-row").count()).toBe(2);

  // The campaign: one run, its step 0 with 32 held out and 32 in each variant, step 1 five days on.
  const [spring] = answers.campaigns.campaigns;
  expect(answers.campaigns.campaigns).toHaveLength(1);
  expect(spring).toMatchObject({ campaign: "spring_winback", occurrences: 1 });
  const [first] = spring.steps;
  expect(first.holdout).toMatchObject({
    n: CAMPAIGN_GROUPS.holdout.n,
    conversions: CAMPAIGN_GROUPS.holdout.converted,
  });
  // A variant's row per variant, then the held-out customers' (no variant, nothing sent).
  expect(first.variants).toMatchObject([
    ...(["long_copy", "short_copy"] as const).map((variant) => ({
      variant,
      audience: CAMPAIGN_GROUPS[variant].n,
      sent: CAMPAIGN_GROUPS[variant].n,
      conversions: CAMPAIGN_GROUPS[variant].converted,
    })),
    { variant: null, audience: CAMPAIGN_GROUPS.holdout.n, held_out: CAMPAIGN_GROUPS.holdout.n, sent: 0 },
  ]);
  expect(first.variants.reduce((sum: number, v: Json) => sum + v.failed, 0)).toBe(1);
  // A lift per variant and one for the whole campaign, each with enough customers for a number.
  expect(first.lift.map((lift: Json) => [lift.variant, lift.enough])).toEqual([
    ["long_copy", true],
    ["short_copy", true],
    [null, true],
  ]);
  // Each lift of each step: a number (dot, interval and sentence) or the API's reason, in order.
  const shownLifts = await page.locator("#card-campaigns ul.lift-list li").allTextContents();
  const expectedLifts: (string | RegExp)[] = [];
  const whiskerLabels: string[] = [];
  for (const [si, step] of (spring.steps as Json[]).entries()) {
    for (const [li, lift] of (step.lift as Json[]).entries()) {
      const label = `Step ${step.step}${lift.variant ? `, ${lift.variant}` : ""}`;
      const metric = `campaigns.campaigns.0.steps.${si}.lift.${li}.absolute`;
      if (lift.enough) {
        // The numbers themselves are data-metric figures, compared with the API above.
        for (const part of ["lift", "low", "high"]) expect(metrics).toContain(`${metric}.${part}`);
        whiskerLabels.push(label);
        expectedLifts.push(
          new RegExp(`^${label}: [+−±][\\d.]+ pp \\(95% interval [+−±][\\d.]+ pp to [+−±][\\d.]+ pp\\)$`),
        );
      } else {
        expect(metrics).not.toContain(`${metric}.lift`);
        expectedLifts.push(`${label}: not enough data: ${lift.why}.`);
      }
    }
  }
  expect(shownLifts).toHaveLength(expectedLifts.length);
  for (const [i, shown] of shownLifts.entries()) expect(shown).toMatch(expectedLifts[i]!);
  // Step 1 has no holdout of its own: the card says why, in the API's words.
  expect(spring.steps.length).toBe(2);
  expect(spring.steps[1].lift.every((lift: Json) => !lift.enough && lift.why.includes("drawn once"))).toBe(
    true,
  );
  // The chart draws a named whisker for each lift that has a number.
  expect(await page.locator("#card-campaigns svg text.whisker-label").allTextContents()).toEqual(
    whiskerLabels,
  );
  expect(await page.locator("#card-campaigns svg circle.lift-dot").count()).toBe(whiskerLabels.length);

  // The failed sends: every message to a customer with no address on file, dead at once.
  const problems = answers.sends_problems.items as Json[];
  expect(problems.map((send) => [send.programme_kind, send.customer_id, send.step]).sort()).toEqual(
    story.unreachable,
  );
  for (const send of problems)
    expect(send).toMatchObject({
      channel: "cloudflare_email",
      status: "dead",
      attempts: 1,
      last_error: "cloudflare_email channel: the send has no recipient",
    });
  for (const [i] of problems.entries())
    for (const field of [
      "customer_id",
      "programme_key",
      "channel",
      "status",
      "attempts",
      "last_error",
      "updated_at",
    ])
      expect(metrics).toContain(`sends_problems.items.${i}.${field}`);
}

describe("the dashboard in headless Chromium", () => {
  it("signs in at a laptop's size, draws every chart from the API, and shows the API's figures", async () => {
    const { context, page, urls, problems } = await openDashboard({ width: 1280, height: 800 });
    expect(await page.isVisible("#sign-in")).toBe(true);
    expect(await page.isVisible("#dashboard")).toBe(false);

    await page.fill("#key", "rbk_not-a-real-key");
    const refused = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith("/dashboard/session")),
      page.click("#sign-in button[type=submit]"),
    ]);
    expect(refused[0].status()).toBe(401);
    expect(await page.textContent("#sign-in-error")).toContain("unknown or revoked");
    expect(await context.cookies()).toEqual([]);
    // The refused sign-in's 401 is the one failed load expected.
    problems.length = 0;

    await signIn(page, readerKey);
    await waitForCharts(page);
    const { figures, answers } = await expectFiguresMatchTheApi(page);

    // The charts are drawn from what was made through the API: MRR movements, the cancellation,
    // the failed payment, the decisions and sends of the tick.
    const metrics = new Set(figures.map((figure) => figure.metric));
    for (const metric of [
      "retention.total.mrr.end",
      "retention.total.customers.end",
      "retention.total.customer_churn_rate",
      "cancellations.by_reason.0.mrr_lost",
      "cancellations.total.count",
      "dunning.opened",
      "dunning.failed_mrr",
    ]) {
      expect(metrics).toContain(metric);
    }
    const mrrEnd = 3 * 4900 + story.reactivatedMrr;
    expect(answers.retention.total.mrr.end).toBe(mrrEnd);
    expect(answers.retention.total.mrr.expansion).toBe(3000);
    expect(answers.retention.total.mrr.reactivation).toBe(story.reactivatedMrr);
    const priceCancellations = story.canceled.too_expensive!;
    expect(answers.cancellations.by_reason).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          reason: "too_expensive",
          count: priceCancellations.count + 1,
          mrr_lost: priceCancellations.mrr + 4900,
        }),
        expect.objectContaining({
          reason: "poor_service",
          count: story.canceled.poor_service!.count,
          mrr_lost: story.canceled.poor_service!.mrr,
        }),
      ]),
    );
    expect(answers.dunning.opened).toBe(1);
    expect(await page.locator("#card-mrr svg rect.bar").count()).toBeGreaterThan(0);
    expect(await page.locator("#card-mrr svg circle.mrr-dot").count()).toBe(answers.retention.periods.length);
    expect(await page.locator("#card-reasons .bar-row").count()).toBe(answers.cancellations.by_reason.length);
    expect(await page.locator(".note.error").count()).toBe(0);
    const shownText = await page.textContent("#dashboard");
    expect(shownText).toContain(usd(mrrEnd));
    expect(shownText).toContain("too_expensive");

    // The key lives in an HttpOnly cookie: in no URL the page asked for, not readable by its script.
    const cookies = await context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({
        name: "rebound_session",
        value: readerKey,
        httpOnly: true,
        secure: true,
        sameSite: "Strict",
        path: "/",
      }),
    ]);
    expect(await page.evaluate(() => document.cookie)).not.toContain(readerKey);
    for (const url of urls) expect(url).not.toContain(readerKey);
    expect(urls.some((url) => url.includes("/v1/metrics/retention"))).toBe(true);
    expect(problems).toEqual([]);
    await expectWinbackCardsFilled(page, metrics, answers);

    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-1280x800.png"), fullPage: true });
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-1280x800-fold.png") });
    await context.close();
  });

  it("changes the period and the interval, and still shows the API's figures", async () => {
    const { context, page, problems } = await openDashboard({ width: 1280, height: 800 });
    await signIn(page, readerKey);
    await waitForCharts(page);
    await page.selectOption("#controls select[name=days]", "30");
    await page.selectOption("#controls select[name=interval]", "week");
    await page.waitForFunction(() => {
      const root = document.querySelector("#dashboard")!;
      return (
        root.getAttribute("data-state") === "ready" &&
        root.getAttribute("data-source-retention")!.includes("interval=week")
      );
    });
    const urls = await sources(page);
    const retention = new URL(urls.retention!, smoke.url).searchParams;
    const from = Date.parse(`${retention.get("from")}T00:00:00Z`);
    const to = Date.parse(`${retention.get("to")}T00:00:00Z`);
    expect((to - from) / DAY).toBe(29);
    const { answers } = await expectFiguresMatchTheApi(page);
    expect(answers.retention.interval).toBe("week");
    // The campaign's run and the win-back messages are three to four weeks old: in these 30 days too.
    expect(answers.campaigns.campaigns).toMatchObject([{ campaign: "spring_winback", occurrences: 1 }]);
    expect(answers.winback).toMatchObject({ targeted: 3, reactivated: 2 });
    for (const card of ["#card-winback", "#card-campaigns", "#card-sends"])
      expect(await page.locator(`${card} p.note`).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("works at a phone's size without scrolling sideways", async () => {
    const { context, page, problems } = await openDashboard({ width: 390, height: 844 }, true);
    await signIn(page, readerKey);
    await waitForCharts(page);
    await expectFiguresMatchTheApi(page);
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      viewport: window.innerWidth,
    }));
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    expect(widths.body).toBeLessThanOrEqual(widths.viewport);
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-390x844.png"), fullPage: true });
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-390x844-fold.png") });
    await context.close();
  });

  it("signs out: the cookie is gone and the metrics refuse the browser", async () => {
    const { context, page } = await openDashboard({ width: 1280, height: 800 });
    await signIn(page, readerKey);
    await waitForCharts(page);
    await Promise.all([page.waitForURL(`${smoke.url}/dashboard`), page.click(".sign-out button")]);
    expect(await context.cookies()).toEqual([]);
    expect(await page.isVisible("#sign-in")).toBe(true);
    const status = await page.evaluate(async () => (await fetch("/v1/metrics/retention")).status);
    expect(status).toBe(401);
    await context.close();
  });
});
