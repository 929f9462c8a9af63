// Smoke test: the dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against the built Worker under `wrangler dev`, with data made through the real API.
// It signs in, waits for the charts, and checks every figure the page shows (each element's
// `data-metric`) against the API's own answer to the same question, at a laptop's and a phone's size.
// Screenshots go to test/smoke/.screenshots/ (git-ignored).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, useDevServer } from "./dev-server";

const DAY = 86_400_000;
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

const smoke = useDevServer("rebound-smoke-dashboard-");
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

/** Four customers: one cancels (and is offered a way back), one upgrades, one stays, one's payment fails. */
async function makeHistory(): Promise<void> {
  const started = (id: string, days: number, plan: string, mrr: number) => ({
    id: `${id}-start`,
    type: "subscription.started",
    customer_id: id,
    occurred_at: ago(days),
    properties: { plan, mrr, currency: "USD" },
  });
  const events = [
    started("dash-canceler", 120, "pro", 4900),
    {
      id: "dash-canceler-cancel",
      type: "subscription.canceled",
      customer_id: "dash-canceler",
      occurred_at: ago(12),
      properties: { reason: "too_expensive" },
    },
    started("dash-upgrader", 100, "starter", 1900),
    {
      id: "dash-upgrader-change",
      type: "subscription.changed",
      customer_id: "dash-upgrader",
      occurred_at: ago(30),
      properties: { plan: "pro", mrr: 4900, previous_plan: "starter", previous_mrr: 1900 },
    },
    started("dash-stayer", 60, "pro", 4900),
    started("dash-late-payer", 90, "pro", 4900),
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
  const ingested = await admin("POST", "/v1/events", { events });
  expect(ingested.status).toBe(200);
  const tick = await admin("POST", "/v1/admin/tick", { at: new Date().toISOString() });
  expect(tick.status).toBe(200);
  // A decision for the recent-decisions table: the canceled customer asks for a win-back offer.
  const decided = await admin("GET", "/v1/customers/dash-canceler/next-offer?context=winback");
  expect(decided.status).toBe(200);
}

beforeAll(async () => {
  await makeHistory();
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
  await Promise.all([page.waitForURL(`${smoke.url}/dashboard`), page.click("#sign-in button[type=submit]")]);
}

async function waitForCharts(page: Page): Promise<void> {
  await page.waitForSelector('#dashboard[data-state="ready"]', { timeout: 30_000 });
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
    expect(answers.retention.total.mrr.end).toBe(3 * 4900);
    expect(answers.retention.total.mrr.expansion).toBe(3000);
    expect(answers.cancellations.by_reason).toMatchObject([
      { reason: "too_expensive", count: 1, mrr_lost: 4900 },
    ]);
    expect(answers.dunning.opened).toBe(1);
    expect(await page.locator("#card-mrr svg rect.bar").count()).toBeGreaterThan(0);
    expect(await page.locator("#card-mrr svg circle.mrr-dot").count()).toBe(answers.retention.periods.length);
    expect(await page.locator("#card-reasons .bar-row").count()).toBe(answers.cancellations.by_reason.length);
    expect(await page.locator(".note.error").count()).toBe(0);
    const shownText = await page.textContent("#dashboard");
    expect(shownText).toContain("$147.00");
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
