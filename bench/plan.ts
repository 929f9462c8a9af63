/**
 * Benchmark (not a test): what `POST /v1/admin/plan` (`rebound plan`) costs, against the real Worker
 * under `wrangler dev` on a local D1 holding 100,000 synthetic customers. The claim to show: a plan's
 * cost per customer is flat, so a plan costs in proportion to the customer count.
 *
 * The population exercises every part of the plan. Each customer's whole event history is generated
 * (sign-up, plan, orders, activity on busy, normal and quiet schedules, cancellations for every
 * reason at ages from a day to 400 days, failed payments of every age, some paid, cards about to
 * expire) and folded into the profile row by ingest's own fold (worker/ingest/profile-fold.ts), with
 * `profile_state` left NULL as a profile written before migration 0007 has it. Events within the
 * rules' retention are in `events`; the whole history is in `event_days`, as ingest and the archiver
 * leave them. Failed payments older than a few hours have the dunning case and the step sends the
 * tick would have stored; recent cancellations have their win-back sends; 6% of customers asked the
 * decision API for an offer (through the API, at moments over the last 20 days), so some hold
 * outstanding offers.
 *
 * Measured in one process against one server, every walk page by page through `next_cursor`:
 *   - the plan over the first 1,000, 10,000 and 100,000 customers (ids in key order): proposed = the
 *     shipped ruleset with the dunning cadence shortened (steps on days 0, 2, 5; final on day 10),
 *     base = the deployed ruleset. Per size: wall time, customers/s, rows read per customer, queries
 *     per page, pages. Walks shorter than 10,000 customers are repeated until they cover 10,000.
 *   - baseline, no change: the same walk with the deployed ruleset proposed (base == proposed).
 *   - baseline, the reads alone: the same walk with rules that hold only the card reminders, on both
 *     sides: the plan route's own reads of the same pages with next to nothing to evaluate. No admin
 *     route lists customers, so there is no plainer keyset read of the same pages to compare with.
 *   - baseline, the floor: GET /v1/admin/floor/:id (one primary-key read behind the standard
 *     authentication) for the first 1,000 customers, one after the other.
 * Before and after the measured walks (server stopped) every table's row count, the profile
 * versions and the NULL profile states are compared: a plan writes nothing.
 *
 * Usage: npm run bench:plan [-- --customers 100000 --page-size 500 --days 30 --state DIR]
 * `--state DIR` keeps the loaded database in DIR and reuses it on the next run (loading takes minutes).
 * The last line printed is a JSON object with every figure.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  loadRuleset,
  mergePlanPages,
  type PlanProgrammeCounts,
  type PlanReport,
  type RulesetIR,
} from "../dsl";
import { prng } from "../test/prng";
import { canonicalJson } from "../worker/ingest/canonical-json";
import { type DayRow, dayRows } from "../worker/ingest/event-days";
import type { NormalizedEvent } from "../worker/ingest/normalize";
import {
  emptyProfileState,
  type FoldEvent,
  foldEvents,
  PROFILE_COLUMNS,
  profileColumns,
} from "../worker/ingest/profile-fold";
import {
  applyLocalMigrations,
  type DevServer,
  freePort,
  runWrangler,
  startDevServer,
  stopDevServers,
} from "../worker/tools/wrangler-dev";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "100000" },
    "page-size": { type: "string", default: "500" },
    days: { type: "string", default: "30" },
    state: { type: "string" },
  },
});
const CUSTOMERS = Number(values.customers);
const PAGE_SIZE = Number(values["page-size"]);
const DAYS = Number(values.days);
const SIZES = [1_000, 10_000, 100_000].filter((size) => size < CUSTOMERS).concat(CUSTOMERS);
/** Short walks are repeated until they cover this many customers, so their time is not one page's noise. */
const MIN_MEASURED_CUSTOMERS = 10_000;
const FLOOR_CUSTOMERS = Math.min(1_000, CUSTOMERS);
const DAY = 86_400_000;
const HOUR = 3_600_000;
// D1 refuses statements over 100 KB: rows of up to ~500 bytes, 150 a statement, stay well under.
const ROWS_PER_INSERT = 150;
const DECISION_SHARE = 0.06;
const DECISION_CONNECTIONS = 4;

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
const PLANS = [
  { plan: "starter", mrr: [900, 1900] },
  { plan: "pro", mrr: [4900] },
  { plan: "business", mrr: [9900, 19900] },
];
const ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC", "America/Los_Angeles"];

function customerId(n: number): string {
  return `bench-${n.toString().padStart(6, "0")}`;
}

function sql(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** One customer's generated history and the rows the Worker would hold for it. */
interface CustomerRows {
  customer: string;
  events: FoldEvent[];
  days: DayRow[];
  cases: string[];
  sends: string[];
}

/**
 * The shipped ruleset's dunning cadence and win-back sequences, as the tick would have run them:
 * which step sends exist already.
 */
interface Programmes {
  dunningSteps: readonly number[];
  dunningFinalDay: number;
  winback: readonly { key: string; reasons: readonly string[]; days: readonly number[] }[];
  retentionMs: number;
}

/** Counts the rows a load wrote, for the report. */
interface LoadCounts {
  customers: number;
  events: number;
  eventDays: number;
  cases: number;
  sends: number;
  byKind: Record<string, number>;
}

/** A send id as worker/ids.ts makes them: `snd_`, 12 hex digits of ms, 16 more. */
function sendId(at: number, random: () => number): string {
  let tail = "";
  for (let i = 0; i < 16; i++) tail += Math.floor(random() * 16).toString(16);
  return `snd_${at.toString(16).padStart(12, "0")}${tail}`;
}

/** One customer: its events (whole history), its profile as ingest folds it, its cases and sends. */
function generateCustomer(
  n: number,
  now: number,
  random: () => number,
  programmes: Programmes,
): CustomerRows & { kind: string } {
  const id = customerId(n);
  const between = (from: number, to: number) => from + Math.floor(random() * Math.max(0, to - from));
  const tenureDays = 20 + Math.floor(random() * 700);
  const signedUp = now - tenureDays * DAY - Math.floor(random() * 24) * HOUR;
  const u = random();
  const kind = u < 0.3 ? "canceled" : u < 0.45 ? "past_due" : u < 0.55 ? "card_expiring" : "active";
  const habit = random();
  const engagement = habit < 0.25 ? "busy" : habit < 0.7 ? "normal" : "quiet";
  const tier = PLANS[n % PLANS.length]!;
  const mrr = tier.mrr[Math.floor(random() * tier.mrr.length)]!;
  const events: FoldEvent[] = [];
  const add = (type: string, at: number, properties: Record<string, unknown>) => {
    events.push({
      id: `e-${id}-${events.length}`,
      type,
      occurred_at: at,
      properties: canonicalJson(properties),
    });
  };
  add("customer.updated", signedUp, {
    email: `${id}@example.com`,
    first_name: `Customer${n}`,
    timezone: ZONES[Math.floor(random() * ZONES.length)],
  });
  add("subscription.started", signedUp + 60_000, { plan: tier.plan, mrr, currency: "USD" });

  const canceledAt =
    kind === "canceled"
      ? now - (1 + Math.floor(random() * Math.min(400, tenureDays - 8))) * DAY - between(0, DAY)
      : null;
  const end = canceledAt ?? now;
  for (let k = Math.floor(random() * 4); k > 0; k--) {
    add("order.completed", between(signedUp + HOUR, end), {
      amount: 2_000 + Math.floor(random() * 20_000),
      currency: "USD",
    });
  }
  if (random() < 0.08) add("referral.made", between(signedUp + HOUR, end), {});

  // Activity: a busy customer is active most days, a quiet one went silent 8 to 45 days before `end`.
  const activityDays = new Set<number>();
  const addDays = (count: number, fromDaysBack: number, toDaysBack: number) => {
    const span = Math.min(toDaysBack, Math.floor((end - signedUp) / DAY)) - fromDaysBack;
    for (let k = 0; k < count && span > 0; k++) activityDays.add(fromDaysBack + Math.floor(random() * span));
  };
  const silentFor = engagement === "quiet" ? 8 + Math.floor(random() * 38) : 0;
  if (engagement === "busy") addDays(12 + Math.floor(random() * 7), 0, 30);
  if (engagement === "normal") addDays(3 + Math.floor(random() * 6), 0, 30);
  addDays(engagement === "busy" ? 10 : engagement === "normal" ? 4 : 3, Math.max(30, silentFor), 90);
  // Archived history (older than the retention): about two active days a month.
  addDays(Math.round(((tenureDays - 90) / 365) * 24 * (engagement === "busy" ? 1.5 : 1)), 90, tenureDays);
  if (silentFor > 0) activityDays.add(silentFor);
  for (const daysBack of activityDays) add("activity", end - daysBack * DAY - between(0, 12 * HOUR), {});

  if (canceledAt !== null)
    add("subscription.canceled", canceledAt, { reason: REASONS[Math.floor(random() * REASONS.length)] });
  if (random() < 0.1) {
    // A failure long since paid: not open, and it adds to the lifetime value.
    const failed = between(signedUp + DAY, end - 2 * DAY);
    const invoice = `in_${id}_0`;
    add("payment.failed", failed, { invoice_id: invoice, amount: mrr, currency: "USD", card_last4: "4242" });
    add("payment.succeeded", failed + DAY, { invoice_id: invoice, amount: mrr, currency: "USD" });
  }
  let failedAt: number | null = null;
  if (kind === "past_due") {
    // A fifth arrived since the last tick (no case yet); the rest from 6 hours to 29 days ago.
    failedAt = random() < 0.2 ? now - between(0, 6 * HOUR) : now - between(6 * HOUR, 29 * DAY);
    add("payment.failed", failedAt, {
      invoice_id: `in_${id}_1`,
      amount: mrr,
      currency: "USD",
      card_last4: "4242",
      decline_code: "insufficient_funds",
      update_url: "https://billing.example.com/update",
    });
  }
  if (kind === "card_expiring" || (kind === "past_due" && random() < 0.2)) {
    const expires = Math.floor((now + (-2 + Math.floor(random() * 52)) * DAY) / DAY) * DAY;
    add("card.expiring", now - between(HOUR, 20 * DAY), { expires_at: new Date(expires).toISOString() });
  }

  const profile = profileColumns(foldEvents(emptyProfileState(), events));
  const customer = `(${[sql(id), ...PROFILE_COLUMNS.map((column) => sql(profile[column])), "NULL", "0"].join(",")})`;
  const stored = events.filter((event) => event.occurred_at > now - programmes.retentionMs);
  const days = dayRows(events.map((event) => ({ ...event, customer_id: id }) as unknown as NormalizedEvent));

  const cases: string[] = [];
  const sends: string[] = [];
  const send = (
    kindName: string,
    key: string,
    occurrence: string,
    step: string,
    message: string,
    at: number,
  ) => {
    sends.push(
      `(${[
        sendId(at, random),
        kindName,
        key,
        occurrence,
        step,
        id,
        "email",
        message,
        `${id}@example.com`,
        "{}",
        "sent",
        1,
        at,
        at,
        at,
        at,
        at,
      ]
        .map(sql)
        .join(",")})`,
    );
  };
  if (failedAt !== null && failedAt < now - 6 * HOUR) {
    const invoice = `in_${id}_1`;
    const elapsedDays = (now - failedAt) / DAY;
    const done = programmes.dunningSteps.filter((day) => day <= elapsedDays);
    const last = done[done.length - 1];
    for (const day of done)
      send("dunning", "standard", invoice, `day-${day}`, `dunning_day_${day}`, failedAt + day * DAY + HOUR);
    cases.push(
      `(${[
        id,
        invoice,
        "standard",
        "open",
        failedAt,
        mrr,
        "USD",
        failedAt + HOUR,
        last === undefined ? null : `day-${last}`,
        last === undefined ? null : failedAt + last * DAY + HOUR,
      ]
        .map(sql)
        .join(",")})`,
    );
  }
  if (canceledAt !== null && canceledAt > now - 90 * DAY) {
    const reason = JSON.parse(events.find((event) => event.type === "subscription.canceled")!.properties)
      .reason as string;
    const sequence = programmes.winback.find((candidate) => candidate.reasons.includes(reason));
    for (const day of sequence?.days ?? []) {
      const at = canceledAt + day * DAY + HOUR;
      if (at <= now)
        send(
          "winback",
          sequence!.key,
          new Date(canceledAt).toISOString(),
          `day-${day}`,
          "winback_whats_new",
          at,
        );
    }
  }
  return {
    kind: String(profile.status),
    customer,
    events: stored,
    days,
    cases,
    sends,
  };
}

/** Writes the load as SQL statements to `file` (a stream: it runs to hundreds of megabytes). */
function writeLoadSql(
  file: string,
  now: number,
  keyHash: string,
  keyPrefix: string,
  programmes: Programmes,
): { counts: LoadCounts; canceled: Set<number> } {
  const random = prng(20_260_503);
  const fd = openSync(file, "w");
  const counts: LoadCounts = { customers: 0, events: 0, eventDays: 0, cases: 0, sends: 0, byKind: {} };
  const canceled = new Set<number>();
  const tables = {
    customers: {
      head: `INSERT INTO customers (id, ${PROFILE_COLUMNS.join(", ")}, profile_state, profile_version) VALUES `,
      rows: [] as string[],
    },
    events: {
      head: "INSERT INTO events (id, customer_id, type, occurred_at, received_at, properties) VALUES ",
      rows: [] as string[],
    },
    days: {
      head: "INSERT INTO event_days (customer_id, day, type, currency, count, amount, latest_at, latest_id, latest) VALUES ",
      rows: [] as string[],
    },
    cases: {
      head: "INSERT INTO dunning_cases (customer_id, invoice_id, cadence, status, failed_at, amount, currency, opened_at, last_step, last_step_at) VALUES ",
      rows: [] as string[],
    },
    sends: {
      head: "INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel, message_key, recipient, variables, status, attempts, not_before, created_at, enqueued_at, sent_at, updated_at) VALUES ",
      rows: [] as string[],
    },
  };
  const flush = (table: { head: string; rows: string[] }, all = false) => {
    if (table.rows.length >= ROWS_PER_INSERT || (all && table.rows.length > 0)) {
      writeSync(fd, `${table.head}${table.rows.join(",")};\n`);
      table.rows = [];
    }
  };
  writeSync(
    fd,
    `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, created_at) VALUES ('key_bench', 'bench', '${keyHash}', '${keyPrefix}', '["admin"]', ${now});\n`,
  );
  for (let n = 0; n < CUSTOMERS; n++) {
    const id = customerId(n);
    const rows = generateCustomer(n, now, random, programmes);
    counts.customers += 1;
    counts.byKind[rows.kind] = (counts.byKind[rows.kind] ?? 0) + 1;
    if (rows.kind === "canceled") canceled.add(n);
    tables.customers.rows.push(rows.customer);
    for (const event of rows.events) {
      tables.events.rows.push(
        `(${[event.id, id, event.type, event.occurred_at, event.occurred_at, event.properties].map(sql).join(",")})`,
      );
    }
    for (const day of rows.days) {
      tables.days.rows.push(
        `(${[day.customer_id, day.day, day.type, day.currency, day.count, day.amount, day.latest_at, day.latest_id, day.latest].map(sql).join(",")})`,
      );
    }
    tables.cases.rows.push(...rows.cases);
    tables.sends.rows.push(...rows.sends);
    counts.events += rows.events.length;
    counts.eventDays += rows.days.length;
    counts.cases += rows.cases.length;
    counts.sends += rows.sends.length;
    for (const table of Object.values(tables)) flush(table);
  }
  for (const table of Object.values(tables)) flush(table, true);
  closeSync(fd);
  return { counts, canceled };
}

/** The proposed change: the shipped dunning cadence shortened to steps on days 0, 2, 5 and the final on day 10. */
function shortenedDunning(shipped: RulesetIR): RulesetIR {
  const ir = structuredClone(shipped) as RulesetIR & {
    dunning: { steps: { day: number; message: string }[]; final: { day: number } }[];
  };
  const cadence = ir.dunning[0];
  if (!cadence) throw new Error("the shipped rules have no dunning cadence to shorten");
  const messages = cadence.steps.map((step) => step.message);
  cadence.steps = [0, 2, 5].map((day, index) => ({
    day,
    message: messages[Math.min(index, messages.length - 1)]!,
  }));
  cadence.final.day = 10;
  return withVersion(ir);
}

/**
 * A ruleset with nothing to evaluate but the card reminders: the plan route's keyset read of a page
 * with almost no work on top. The card reminders stay because a plan in which neither ruleset has
 * them fails (worker/plan/plan-page.ts binds four parameters to the page query, which then uses two).
 */
function emptyRules(shipped: RulesetIR): RulesetIR {
  return withVersion({
    ...structuredClone(shipped),
    segments: [],
    offers: [],
    campaigns: [],
    inactivity: [],
    dunning: [],
    winback: [],
  } as RulesetIR);
}

function withVersion(ir: RulesetIR): RulesetIR {
  const text = JSON.stringify({ ...ir, version: "" });
  const version = `sha256:${createHash("sha256").update(text).digest("hex")}`;
  // Checked here so a malformed edit fails before the database is loaded, not on the first page.
  loadRuleset({ ...ir, version });
  return { ...ir, version };
}

interface Walk {
  customers: number;
  pages: number;
  ms: number;
  rowsRead: number;
  queries: number;
  pageMs: number[];
  plan: PlanReport;
}

/**
 * Pages through the plan of the first `limit` customers, `repeat` times over; the plan of the last
 * round merged (every round computes the same plan).
 */
async function walk(
  server: DevServer,
  headers: Record<string, string>,
  body: { ruleset: RulesetIR; base?: RulesetIR },
  at: string,
  limit: number,
  repeat = 1,
): Promise<Walk> {
  const totals: Walk = {
    customers: 0,
    pages: 0,
    ms: 0,
    rowsRead: 0,
    queries: 0,
    pageMs: [],
    plan: undefined as unknown as PlanReport,
  };
  for (let round = 0; round < repeat; round++) {
    const pages: PlanReport[] = [];
    let seen = 0;
    let cursor: string | null = "";
    while (cursor !== null && seen < limit) {
      const started = performance.now();
      const response: Response = await fetch(`${server.url}/v1/admin/plan`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          ...body,
          at,
          days: DAYS,
          page_size: Math.min(PAGE_SIZE, limit - seen),
          ...(cursor ? { cursor } : {}),
        }),
      });
      const text: string = await response.text();
      const elapsed = performance.now() - started;
      if (response.status !== 200)
        throw new Error(
          `POST /v1/admin/plan answered ${response.status}: ${text.slice(0, 2000)}\n${server.output().slice(-4000)}`,
        );
      const page: PlanReport = (JSON.parse(text) as { plan: PlanReport }).plan;
      pages.push(page);
      seen += page.customers;
      cursor = page.next_cursor;
      totals.pageMs.push(elapsed);
      totals.ms += elapsed;
      totals.pages += 1;
      totals.rowsRead += page.cost.rows_read;
      totals.queries += page.cost.queries;
    }
    totals.customers += seen;
    totals.plan = mergePlanPages(pages);
  }
  return totals;
}

/** GET /v1/admin/floor/:id for each of the first `count` customers, one after the other. */
async function floorWalk(server: DevServer, headers: Record<string, string>, count: number) {
  let rowsRead = 0;
  const started = performance.now();
  for (let n = 0; n < count; n++) {
    const response = await fetch(`${server.url}/v1/admin/floor/${customerId(n)}`, { headers });
    if (response.status !== 200) throw new Error(`GET /v1/admin/floor answered ${response.status}`);
    rowsRead += Number(response.headers.get("x-rebound-rows-read") ?? 0);
    await response.arrayBuffer();
  }
  return { customers: count, ms: performance.now() - started, rowsRead };
}

/**
 * Asks the decision API for an offer for DECISION_SHARE of the customers, at moments over the 20 days
 * before `now`: the outstanding offers (live and lapsed) and no-offer answers the plan reads.
 */
async function askForOffers(
  server: DevServer,
  headers: Record<string, string>,
  now: number,
  canceled: ReadonlySet<number>,
) {
  const random = prng(7);
  const asks: { n: number; at: number; reasonIndex: number }[] = [];
  for (let n = 0; n < CUSTOMERS; n++) {
    const chosen = random() < DECISION_SHARE;
    const at = now - Math.floor(random() * 20 * DAY);
    const reasonIndex = Math.floor(random() * REASONS.length);
    if (chosen) asks.push({ n, at, reasonIndex });
  }
  const outcomes = { offers: 0, no_offer: 0 };
  let next = 0;
  const worker = async () => {
    while (next < asks.length) {
      const ask = asks[next++]!;
      const winback = canceled.has(ask.n);
      const response = await fetch(`${server.url}/v1/decisions`, {
        method: "POST",
        headers: { ...headers, "x-rebound-now": new Date(ask.at).toISOString() },
        body: JSON.stringify({
          customer_id: customerId(ask.n),
          context: winback ? "winback" : "cancel_flow",
          ...(winback ? {} : { reason: REASONS[ask.reasonIndex] }),
        }),
      });
      const answer = (await response.json()) as { offer?: unknown };
      if (response.status !== 200)
        throw new Error(`POST /v1/decisions answered ${response.status}: ${JSON.stringify(answer)}`);
      if (answer.offer) outcomes.offers += 1;
      else outcomes.no_offer += 1;
    }
  };
  await Promise.all(Array.from({ length: DECISION_CONNECTIONS }, worker));
  return outcomes;
}

const SNAPSHOT_SQL = `SELECT
  (SELECT count(*) FROM customers) AS customers,
  (SELECT count(*) FROM customers WHERE profile_state IS NULL) AS profiles_without_state,
  (SELECT sum(profile_version) FROM customers) AS profile_versions,
  (SELECT count(*) FROM events) AS events,
  (SELECT count(*) FROM event_days) AS event_days,
  (SELECT count(*) FROM sends) AS sends,
  (SELECT count(*) FROM dunning_cases) AS dunning_cases,
  (SELECT count(*) FROM decisions) AS decisions,
  (SELECT count(*) FROM decisions WHERE status = 'outstanding') AS outstanding_offers,
  (SELECT count(*) FROM redemptions) AS redemptions,
  (SELECT count(*) FROM campaign_runs) AS campaign_runs,
  (SELECT count(*) FROM campaign_exclusions) AS campaign_exclusions,
  (SELECT count(*) FROM tick_state) AS tick_state,
  (SELECT count(*) FROM outbox) AS outbox`;

/** Row counts of every table the Worker writes (the server must be stopped). */
async function snapshot(stateDir: string): Promise<Record<string, number>> {
  const output = await runWrangler(
    [
      "d1",
      "execute",
      "rebound",
      "--local",
      "--persist-to",
      stateDir,
      "--json",
      "--command",
      SNAPSHOT_SQL.replace(/\s+/g, " "),
    ],
    { quiet: true },
  );
  const parsed = JSON.parse(output.slice(output.indexOf("["))) as { results: Record<string, number>[] }[];
  return parsed[0]!.results[0]!;
}

interface Marker {
  key: string;
  now: number;
  load: LoadCounts & { seconds: number; decisions: { offers: number; no_offer: number } };
}

async function main(): Promise<void> {
  const shipped = JSON.parse(
    readFileSync(new URL("../worker/generated/ruleset.json", import.meta.url), "utf8"),
  ) as RulesetIR;
  const proposed = shortenedDunning(shipped);
  const empty = emptyRules(shipped);
  const shippedDunning = (
    shipped as unknown as { dunning: { steps: { day: number }[]; final: { day: number } }[] }
  ).dunning[0]!;
  const programmes: Programmes = {
    dunningSteps: shippedDunning.steps.map((step) => step.day),
    dunningFinalDay: shippedDunning.final.day,
    winback: (
      shipped as unknown as { winback: { key: string; reasons: string[]; steps: { day: number | null }[] }[] }
    ).winback.map((sequence) => ({
      key: sequence.key,
      reasons: sequence.reasons,
      days: sequence.steps.map((step) => step.day ?? 0),
    })),
    retentionMs: (shipped as unknown as { eventRetentionMs: number | null }).eventRetentionMs ?? 90 * DAY,
  };

  const keep = values.state !== undefined;
  const stateDir = values.state ?? mkdtempSync(join(tmpdir(), "rebound-bench-plan-"));
  const markerFile = join(stateDir, `bench-plan-${CUSTOMERS}.json`);
  // The bootstrap admin key is never sent: every route authenticates through the api_keys lookup.
  const secrets = { REBOUND_ADMIN_KEY: `unused-${randomBytes(16).toString("hex")}` };
  try {
    let marker: Marker;
    if (keep && existsSync(markerFile)) {
      marker = JSON.parse(readFileSync(markerFile, "utf8")) as Marker;
      await applyLocalMigrations({ persistTo: stateDir, quiet: true });
      console.log(
        `plan: reusing ${CUSTOMERS} customers in ${stateDir}, loaded for ${new Date(marker.now).toISOString()}`,
      );
    } else {
      mkdirSync(stateDir, { recursive: true });
      const key = `rbk_bench_${randomBytes(24).toString("base64url")}`;
      // Whole minutes: the plan is taken at this moment on every reuse of the state.
      const now = Math.floor(Date.now() / 60_000) * 60_000;
      await applyLocalMigrations({ persistTo: stateDir, quiet: true });
      const loadStarted = performance.now();
      const sqlFile = join(stateDir, "population.sql");
      const { counts, canceled } = writeLoadSql(
        sqlFile,
        now,
        createHash("sha256").update(key).digest("hex"),
        key.slice(0, 10),
        programmes,
      );
      await runWrangler(
        ["d1", "execute", "rebound", "--local", "--persist-to", stateDir, "--file", sqlFile],
        { quiet: true },
      );
      rmSync(sqlFile);
      const loader = await startDevServer({ port: await freePort(), persistTo: stateDir, secrets });
      let decisions: { offers: number; no_offer: number };
      try {
        decisions = await askForOffers(
          loader,
          { authorization: `Bearer ${key}`, "content-type": "application/json" },
          now,
          canceled,
        );
      } finally {
        await loader.stop();
      }
      const seconds = round((performance.now() - loadStarted) / 1000);
      marker = { key, now, load: { ...counts, seconds, decisions } };
      writeFileSync(markerFile, JSON.stringify(marker), { mode: 0o600 });
      console.log(
        `plan: loaded ${counts.customers} customers (${JSON.stringify(counts.byKind)}), ${counts.events} events, ` +
          `${counts.eventDays} event_days rows, ${counts.cases} dunning cases, ${counts.sends} sends, ` +
          `${decisions.offers + decisions.no_offer} decisions (${decisions.offers} offers) in ${seconds}s`,
      );
    }

    const before = await snapshot(stateDir);
    const at = new Date(marker.now).toISOString();
    const headers = { authorization: `Bearer ${marker.key}`, "content-type": "application/json" };
    const server = await startDevServer({ port: await freePort(), persistTo: stateDir, secrets });
    const sizes: Record<number, Walk> = {};
    let unchanged: Walk;
    let readOnly: Walk;
    let floor: Awaited<ReturnType<typeof floorWalk>>;
    try {
      // Warm up: isolate start, rulesets compiled and cached, SQLite pages in memory.
      await walk(server, headers, { ruleset: proposed }, at, PAGE_SIZE * 2);
      await walk(server, headers, { ruleset: shipped }, at, PAGE_SIZE);
      await walk(server, headers, { ruleset: empty, base: empty }, at, PAGE_SIZE);
      await floorWalk(server, headers, 100);
      for (const size of SIZES) {
        const repeat = Math.max(1, Math.ceil(MIN_MEASURED_CUSTOMERS / size));
        sizes[size] = await walk(server, headers, { ruleset: proposed }, at, size, repeat);
        console.log(`plan: ${size} customers ×${repeat}: ${round(sizes[size]!.ms / 1000)}s`);
      }
      unchanged = await walk(server, headers, { ruleset: shipped }, at, CUSTOMERS);
      console.log(`plan: no change, ${CUSTOMERS} customers: ${round(unchanged.ms / 1000)}s`);
      readOnly = await walk(server, headers, { ruleset: empty, base: empty }, at, CUSTOMERS);
      console.log(`plan: empty rules, ${CUSTOMERS} customers: ${round(readOnly.ms / 1000)}s`);
      floor = await floorWalk(server, headers, FLOOR_CUSTOMERS);
    } finally {
      await server.stop();
    }
    const after = await snapshot(stateDir);
    const changedTables = Object.keys(before).filter((name) => before[name] !== after[name]);

    const perCustomer = (w: Walk) => ({
      ms_per_customer: round(w.ms / w.customers, 4),
      customers_per_second: round((w.customers / w.ms) * 1000),
      rows_read_per_customer: round(w.rowsRead / w.customers, 3),
      queries_per_page: round(w.queries / w.pages, 2),
    });
    const rows = SIZES.map((size) => {
      const w = sizes[size]!;
      const pageMs = [...w.pageMs].sort((a, b) => a - b);
      return {
        customers: size,
        walks: w.customers / size,
        wall_seconds: round(w.ms / 1000 / (w.customers / size), 3),
        pages: w.pages / (w.customers / size),
        page_p50_ms: round(pageMs[Math.floor(pageMs.length / 2)] ?? 0),
        page_max_ms: round(pageMs[pageMs.length - 1] ?? 0),
        ...perCustomer(w),
      };
    });
    const smallest = rows[0]!;
    const largest = rows[rows.length - 1]!;
    const largestWalk = sizes[CUSTOMERS]!;
    const dunning = largestWalk.plan.programmes.find((row) => row.programme === "dunning");
    const headline = {
      customers: largestWalk.plan.customers,
      dunning_key: dunning?.key ?? null,
      dunning_final_actions_before: dunning?.before?.final_actions ?? null,
      dunning_final_actions_after: dunning?.after?.final_actions ?? null,
      dunning_cancels_before: dunning?.before?.cancels ?? null,
      dunning_cancels_after: dunning?.after?.cancels ?? null,
      dunning_final_actions_within_7_days_before: finalsWithin(dunning?.before ?? null, marker.now, 7),
      dunning_final_actions_within_7_days_after: finalsWithin(dunning?.after ?? null, marker.now, 7),
      dunning_final_actions_within_14_days_before: finalsWithin(dunning?.before ?? null, marker.now, 14),
      dunning_final_actions_within_14_days_after: finalsWithin(dunning?.after ?? null, marker.now, 14),
      dunning_sends_before: dunning?.before?.sends ?? null,
      dunning_sends_after: dunning?.after?.sends ?? null,
      unchanged_walk_differences: differences(unchanged.plan),
    };
    const floorMsPerCustomer = floor.ms / floor.customers;
    const result = {
      benchmark: "plan",
      transport: "HTTP to wrangler dev (local D1 in workerd), one client, pages in sequence",
      customers: CUSTOMERS,
      page_size: PAGE_SIZE,
      days: DAYS,
      at,
      load: marker.load,
      sizes: rows,
      ratio_rows_read_per_customer_largest_over_smallest: round(
        largest.rows_read_per_customer / smallest.rows_read_per_customer,
        3,
      ),
      ratio_ms_per_customer_largest_over_smallest: round(
        largest.ms_per_customer / smallest.ms_per_customer,
        3,
      ),
      no_change: perCustomer(unchanged),
      empty_rules: perCustomer(readOnly),
      floor: {
        customers: floor.customers,
        ms_per_customer: round(floorMsPerCustomer, 4),
        rows_read_per_customer: round(floor.rowsRead / floor.customers, 3),
      },
      ratio_ms_per_customer_vs_no_change: round(
        largest.ms_per_customer / (unchanged.ms / unchanged.customers),
        3,
      ),
      ratio_ms_per_customer_vs_empty_rules: round(
        largest.ms_per_customer / (readOnly.ms / readOnly.customers),
        3,
      ),
      ratio_rows_read_per_customer_vs_empty_rules: round(
        largest.rows_read_per_customer / (readOnly.rowsRead / readOnly.customers),
        3,
      ),
      ratio_ms_per_customer_vs_floor: round(largest.ms_per_customer / floorMsPerCustomer, 3),
      headline,
      writes: { before, after, changed: changedTables },
    };

    console.log("");
    console.log(
      `plan of ${CUSTOMERS} customers at ${at}, ${DAYS} days, pages of ${PAGE_SIZE}: shortened dunning vs deployed`,
    );
    console.log(
      "customers   walks   wall s   cust/s    ms/cust   rows/cust   queries/page   pages   page p50 ms",
    );
    for (const row of rows) {
      console.log(
        `${pad(row.customers, 9)} ${pad(row.walks, 7)} ${pad(row.wall_seconds, 8)} ${pad(row.customers_per_second, 8)} ${pad(row.ms_per_customer, 10)} ${pad(row.rows_read_per_customer, 11)} ${pad(row.queries_per_page, 14)} ${pad(row.pages, 7)} ${pad(row.page_p50_ms, 13)}`,
      );
    }
    console.log(
      `largest/smallest: rows read per customer ${result.ratio_rows_read_per_customer_largest_over_smallest}x, ms per customer ${result.ratio_ms_per_customer_largest_over_smallest}x`,
    );
    console.log(
      `baselines at ${CUSTOMERS}: no change ${result.no_change.ms_per_customer} ms/cust, ${result.no_change.rows_read_per_customer} rows/cust (plan ${result.ratio_ms_per_customer_vs_no_change}x); ` +
        `empty rules (the same reads, nothing to evaluate) ${result.empty_rules.ms_per_customer} ms/cust, ${result.empty_rules.rows_read_per_customer} rows/cust (plan ${result.ratio_ms_per_customer_vs_empty_rules}x time, ${result.ratio_rows_read_per_customer_vs_empty_rules}x rows); ` +
        `floor GET /v1/admin/floor/:id ${result.floor.ms_per_customer} ms/cust (plan ${result.ratio_ms_per_customer_vs_floor}x)`,
    );
    console.log(
      `dunning cadence "${headline.dunning_key}": final actions ${headline.dunning_final_actions_before} → ${headline.dunning_final_actions_after}, ` +
        `(within 7 days ${headline.dunning_final_actions_within_7_days_before} → ${headline.dunning_final_actions_within_7_days_after}, ` +
        `within 14 days ${headline.dunning_final_actions_within_14_days_before} → ${headline.dunning_final_actions_within_14_days_after}), ` +
        `cancels ${headline.dunning_cancels_before} → ${headline.dunning_cancels_after}, sends ${headline.dunning_sends_before} → ${headline.dunning_sends_after}; ` +
        `no-change walk differences: ${headline.unchanged_walk_differences}`,
    );
    for (const row of largestWalk.plan.programmes) {
      console.log(
        `  ${row.programme}/${row.key}: sends ${row.before?.sends ?? "-"} → ${row.after?.sends ?? "-"}, final actions ${row.before?.final_actions ?? "-"} → ${row.after?.final_actions ?? "-"}`,
      );
    }
    console.log(
      `writes by the plan: ${changedTables.length === 0 ? "none (every table's count unchanged)" : changedTables.join(", ")}`,
    );
    console.log(JSON.stringify(result));
    if (changedTables.length > 0) process.exitCode = 1;
  } finally {
    if (!keep) rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Final actions on the UTC days before `at` + `days` (by_day is per UTC day). */
function finalsWithin(counts: PlanProgrammeCounts | null, at: number, days: number): number | null {
  if (counts === null) return null;
  const end = new Date(at + days * DAY).toISOString().slice(0, 10);
  let total = 0;
  for (const [day, figures] of Object.entries(counts.by_day)) if (day < end) total += figures.final_actions;
  return total;
}

/** Rows of a plan whose before and after differ: none when base and proposed are the same rules. */
function differences(plan: PlanReport): number {
  let count = 0;
  for (const row of plan.programmes) if (JSON.stringify(row.before) !== JSON.stringify(row.after)) count += 1;
  for (const row of plan.campaigns) if (JSON.stringify(row.before) !== JSON.stringify(row.after)) count += 1;
  for (const row of plan.segments) if (row.entering + row.leaving > 0) count += 1;
  for (const row of plan.offers) if (row.moves.length > 0) count += 1;
  return count;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width);
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

// A Ctrl-C reaches this process but not wrangler dev, which runs in its own process group.
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.on(signal, () => {
    void stopDevServers().finally(() => process.exit(code));
  });
}

main().catch(async (error: unknown) => {
  console.error(error);
  await stopDevServers();
  process.exit(1);
});
