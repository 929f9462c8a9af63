/**
 * A merged plan (dsl/plan-report.ts) for people: a table per section in the terminal, or the same
 * as a pull-request comment in GitHub markdown. What changes comes first; rows that stay the same
 * are counted on one line (terminal) or folded into a `<details>` block (markdown).
 *
 * Stage: CLI output for dsl/cli/plan.ts; pure (text in, text out).
 */
import type {
  PlanCampaignRow,
  PlanCampaignStats,
  PlanOfferRow,
  PlanProgrammeCounts,
  PlanProgrammeRow,
  PlanReport,
  PlanSegmentRow,
} from "../plan-report";
import { formatMoney } from "../runtime/format";
import type { Style } from "./style";

/** What was compared with what, as the user named it. */
export interface PlanLabels {
  /** The proposed rules: the rule directory. */
  proposed: string;
  /** The base: `the deployed ruleset` or `<ref>:<dir>`. */
  base: string;
}

/** Programmes named in the one-line summary; the rest are counted. */
const SUMMARY_PROGRAMMES = 3;

/** Days listed per programme line before the rest is summed up as `…`. */
const DAYS_SHOWN = 8;

const CAMPAIGN_COLUMNS = [
  ["audience", "audience"],
  ["sent", "sent"],
  ["holdout", "holdout"],
  ["capped", "frequency_capped"],
  ["deferred", "deferred"],
  ["no offer", "no_offer"],
] as const satisfies readonly (readonly [string, keyof PlanCampaignStats])[];

/** The rows of each section that change, and those that do not. */
interface Split {
  segments: { changed: PlanSegmentRow[]; same: PlanSegmentRow[] };
  offers: { changed: PlanOfferRow[]; same: PlanOfferRow[] };
  campaigns: { changed: PlanCampaignRow[]; same: PlanCampaignRow[] };
  programmes: { changed: PlanProgrammeRow[]; same: PlanProgrammeRow[] };
}

function split(plan: PlanReport): Split {
  return {
    segments: partition(plan.segments, segmentChanges),
    offers: partition(plan.offers, offerChanges),
    campaigns: partition(plan.campaigns, (row) => !sameJson(row.before, row.after)),
    programmes: partition(plan.programmes, (row) => !sameJson(row.before, row.after)),
  };
}

function finalActionsChange(row: PlanProgrammeRow): number {
  return Math.abs((row.after?.final_actions ?? 0) - (row.before?.final_actions ?? 0));
}

function segmentChanges(row: PlanSegmentRow): boolean {
  return row.entering > 0 || row.leaving > 0 || row.before !== row.after;
}

function offerChanges(row: PlanOfferRow): boolean {
  return (
    row.moves.length > 0 ||
    !sameJson(row.cost_before, row.cost_after) ||
    row.unpriced_before !== row.unpriced_after
  );
}

/** The one-line summary of what changes (the first line of the markdown comment). */
export function planSummary(plan: PlanReport): string {
  const { segments, offers, campaigns, programmes } = split(plan);
  const parts: string[] = [];
  if (segments.changed.length > 0) {
    const entering = total(segments.changed, (row) => row.entering);
    const leaving = total(segments.changed, (row) => row.leaving);
    parts.push(
      `${plural(segments.changed.length, "segment")} change${segments.changed.length === 1 ? "s" : ""} (${count(entering)} entering, ${count(leaving)} leaving)`,
    );
  }
  if (offers.changed.length > 0) {
    // Each customer once, however many contexts and reasons their offer moves in.
    const moving =
      plan.customers_with_offer_moves ??
      total(offers.changed, (row) => total(row.moves, (move) => move.customers));
    const contexts = [...new Set(offers.changed.map((row) => row.context))].join(", ");
    parts.push(
      moving > 0
        ? `${plural(moving, "customer")} get${moving === 1 ? "s" : ""} another offer (${contexts})`
        : `offer cost changes (${contexts})`,
    );
  }
  if (campaigns.changed.length > 0) {
    parts.push(
      `${plural(campaigns.changed.length, "campaign step")} change${campaigns.changed.length === 1 ? "s" : ""}`,
    );
  }
  // Final actions first: a cadence that starts canceling customers is the news.
  const programmesFirst = [...programmes.changed].sort(
    (a, b) => finalActionsChange(b) - finalActionsChange(a),
  );
  for (const row of programmesFirst.slice(0, SUMMARY_PROGRAMMES)) {
    parts.push(programmeHeadline(row, plan.days, false, plan.at.slice(0, 10)));
  }
  if (programmesFirst.length > SUMMARY_PROGRAMMES) {
    parts.push(`${plural(programmesFirst.length - SUMMARY_PROGRAMMES, "more programme")} change`);
  }
  if (parts.length === 0)
    return `No change for ${plural(plan.customers, "customer")} within ${plural(plan.days, "day")}.`;
  return `${parts.join("; ")}.`;
}

/** The plan as terminal tables. */
export function formatPlanHuman(plan: PlanReport, labels: PlanLabels, style: Style): string {
  const parts = split(plan);
  const out: string[] = [
    `${style.bold("rebound plan")}: ${labels.proposed} (${shortVersion(plan.proposed.version)}) against ${labels.base} (${shortVersion(plan.base.version)})`,
    `${plural(plan.customers, "customer")} at ${plan.at}, horizon ${plan.days} days (until ${plan.until})`,
    "",
    `${style.bold("Changes:")} ${planSummary(plan)}`,
  ];
  const stranded = strandedCasesWarning(plan);
  if (stranded) out.push("", style.red(`Warning: ${stranded}`));
  if (parts.segments.changed.length > 0) {
    out.push("", style.bold("Segments"));
    out.push(
      ...table(
        ["segment", "before", "after", "entering", "leaving", "examples"],
        parts.segments.changed.map((row) => [
          row.segment,
          membersCell(row.before),
          membersCell(row.after),
          signed(row.entering, "+"),
          signed(row.leaving, "-"),
          segmentExamples(row),
        ]),
        [false, true, true, true, true, false],
      ).map((line) => `  ${line}`),
    );
  }
  if (parts.offers.changed.length > 0) {
    out.push("", style.bold("Offers (customers asking now)"));
    const label = offerLabel(plan);
    for (const row of parts.offers.changed) {
      const moving = total(row.moves, (move) => move.customers);
      out.push(
        `  ${style.cyan(label(row))}: ${plural(moving, "customer")} move${moving === 1 ? "s" : ""}, ${count(row.unchanged)} unchanged${row.holding_offer > 0 ? ` (${count(row.holding_offer)} of all hold a live offer, which they keep seeing until it expires)` : ""}`,
      );
      if (row.moves.length > 0) {
        out.push(
          ...table(
            ["from", "to", "customers", "examples"],
            row.moves.map((move) => [
              offerName(move.from),
              offerName(move.to),
              count(move.customers),
              move.examples.join(", "),
            ]),
            [false, false, true, false],
          ).map((line) => `    ${line}`),
        );
      }
      out.push(
        ...table(["cost", "before", "after"], costRows(row), [false, true, true]).map((l) => `    ${l}`),
      );
    }
  }
  if (parts.campaigns.changed.length > 0) {
    out.push("", style.bold(`Campaigns (due within ${plural(plan.days, "day")}; old → new)`));
    out.push(...campaignTable(parts.campaigns.changed).map((line) => `  ${line}`));
  }
  if (parts.programmes.changed.length > 0) {
    out.push("", style.bold(`Programmes (within ${plural(plan.days, "day")})`));
    for (const row of parts.programmes.changed) {
      const [headline, ...rest] = programmeLines(row, plan.days, plan.at.slice(0, 10));
      out.push(`  ${headline}`, ...rest.map((line) => `    ${line}`));
    }
  }
  out.push("", style.dim(`Unchanged: ${unchangedSummary(parts)}`));
  out.push(style.dim(costLine(plan)));
  return `${out.join("\n")}\n`;
}

/** The plan as a pull-request comment: a summary line, then GitHub tables, unchanged rows folded. */
export function formatPlanMarkdown(plan: PlanReport, labels: PlanLabels): string {
  const parts = split(plan);
  const stranded = strandedCasesWarning(plan);
  const out: string[] = [
    `**Rebound plan:** ${planSummary(plan)}`,
    ...(stranded ? ["", `> **Warning:** ${stranded}`] : []),
    "",
    `### Rebound plan: \`${labels.proposed}\` against ${labels.base}`,
    "",
    `${plural(plan.customers, "customer")} at ${plan.at}, horizon ${plan.days} days (until ${plan.until}). Proposed \`${shortVersion(plan.proposed.version)}\`, base \`${shortVersion(plan.base.version)}\` (${plan.base.source}).`,
  ];
  out.push(
    ...markdownSections(
      plan,
      parts.segments.changed,
      parts.offers.changed,
      parts.campaigns.changed,
      parts.programmes.changed,
    ),
  );
  const unchanged = markdownSections(
    plan,
    parts.segments.same,
    parts.offers.same,
    parts.campaigns.same,
    parts.programmes.same,
  );
  if (unchanged.length > 0) {
    out.push(
      "",
      `<details><summary>Unchanged: ${unchangedSummary(parts)}</summary>`,
      ...unchanged,
      "",
      "</details>",
    );
  }
  out.push("", `<sub>${costLine(plan)}</sub>`);
  return `${out.join("\n")}\n`;
}

function markdownSections(
  plan: PlanReport,
  segments: readonly PlanSegmentRow[],
  offers: readonly PlanOfferRow[],
  campaigns: readonly PlanCampaignRow[],
  programmes: readonly PlanProgrammeRow[],
): string[] {
  const out: string[] = [];
  if (segments.length > 0) {
    out.push("", "#### Segments", "");
    out.push(
      ...markdownTable(
        ["Segment", "Before", "After", "Entering", "Leaving", "Examples"],
        segments.map((row) => [
          code(row.segment),
          membersCell(row.before),
          membersCell(row.after),
          count(row.entering),
          count(row.leaving),
          segmentExamples(row),
        ]),
        [false, true, true, true, true, false],
      ),
    );
  }
  if (offers.length > 0) {
    out.push("", "#### Offers (customers asking now)", "");
    const label = offerLabel(plan);
    const moves = offers.flatMap((row) =>
      row.moves.map((move) => [
        code(label(row)),
        offerName(move.from),
        offerName(move.to),
        count(move.customers),
        move.examples.join(", "),
      ]),
    );
    if (moves.length > 0) {
      out.push(
        ...markdownTable(["Context", "From", "To", "Customers", "Examples"], moves, [
          false,
          false,
          false,
          true,
          false,
        ]),
        "",
      );
    }
    out.push(
      ...markdownTable(
        ["Context", "Cost", "Before", "After", "Unchanged", "Holding an offer"],
        offers.flatMap((row) =>
          costRows(row).map((cost, i) => [
            code(label(row)),
            ...cost,
            i === 0 ? count(row.unchanged) : "",
            i === 0 ? count(row.holding_offer) : "",
          ]),
        ),
        [false, false, true, true, true, true],
      ),
    );
  }
  if (campaigns.length > 0) {
    out.push("", `#### Campaigns (due within ${plural(plan.days, "day")}; old → new)`, "");
    out.push(
      ...markdownTable(
        ["Campaign", "Occurrence", "Step", "Due", ...CAMPAIGN_COLUMNS.map(([title]) => capitalise(title))],
        campaigns.map((row) => [
          code(row.campaign),
          shortTime(row.occurrence),
          code(row.step),
          shortTime(row.due_at),
          ...CAMPAIGN_COLUMNS.map(([, field]) =>
            change(row.before?.[field] ?? null, row.after?.[field] ?? null),
          ),
        ]),
        [false, false, false, false, true, true, true, true, true, true],
      ),
    );
  }
  if (programmes.length > 0) {
    out.push("", `#### Programmes (within ${plural(plan.days, "day")}; old → new)`, "");
    out.push(
      ...markdownTable(
        ["Programme", "Sends", "Final actions", "Cancels", "Customers", "Days"],
        programmes.map((row) => [
          row.key === row.programme ? code(row.key) : `${row.programme} ${code(row.key)}`,
          change(row.before?.sends ?? null, row.after?.sends ?? null),
          change(row.before?.final_actions ?? null, row.after?.final_actions ?? null),
          change(row.before?.cancels ?? null, row.after?.cancels ?? null),
          change(row.before?.customers ?? null, row.after?.customers ?? null),
          programmeDays(row),
        ]),
        [false, true, true, true, true, false],
      ),
    );
  }
  return out;
}

function campaignTable(rows: readonly PlanCampaignRow[]): string[] {
  return table(
    ["campaign", "occurrence", "step", "due", ...CAMPAIGN_COLUMNS.map(([title]) => title)],
    rows.map((row) => [
      row.campaign,
      shortTime(row.occurrence),
      row.step,
      shortTime(row.due_at),
      ...CAMPAIGN_COLUMNS.map(([, field]) => change(row.before?.[field] ?? null, row.after?.[field] ?? null)),
    ]),
    [false, false, false, false, true, true, true, true, true, true],
  );
}

/**
 * A programme in a few lines, final actions first:
 * `dunning payment_failed: final actions 14 within 30 days, were 0 (days 2026-03-05: 4, …)`.
 */
export function programmeLines(row: PlanProgrammeRow, days: number, firstDay?: string): string[] {
  const lines = [programmeHeadline(row, days, true, firstDay)];
  const { before, after } = row;
  if (before && after) {
    if (after.final_actions + before.final_actions > 0) {
      lines.push(
        `sends ${count(after.sends)} within ${plural(days, "day")}, were ${count(before.sends)}${dayList(row, "sends")}`,
      );
    }
    if (after.cancels !== before.cancels)
      lines.push(`cancels ${count(after.cancels)}, were ${count(before.cancels)}`);
  }
  const steps = stepChanges(before, after);
  if (steps) lines.push(`steps: ${steps}`);
  const customers = after ?? before!;
  lines.push(
    `customers ${count(after?.customers ?? 0)}, were ${count(before?.customers ?? 0)}${customers.examples.length > 0 ? ` (e.g. ${customers.examples.join(", ")})` : ""}`,
  );
  return lines;
}

/** The programme's change in one line; `withDays` adds the days (the summary line leaves them out). */
function programmeHeadline(row: PlanProgrammeRow, days: number, withDays = true, firstDay?: string): string {
  const name = programmeName(row);
  const { before, after } = row;
  const on = (field: "sends" | "final_actions") => (withDays ? dayList(row, field) : "");
  const what = (counts: PlanProgrammeCounts) =>
    `${plural(counts.sends, "send")}${counts.final_actions > 0 ? `, ${plural(counts.final_actions, "final action")}` : ""} within ${plural(days, "day")}`;
  if (!before)
    return `${name} (new): ${what(after!)}${on(after!.final_actions > 0 ? "final_actions" : "sends")}`;
  if (!after)
    return `${name} (removed): ${what(before)} no more${on(before.final_actions > 0 ? "final_actions" : "sends")}`;
  // What the first tick does at once is the news: a shorter cadence closes its overdue cases today.
  const onFirstDay = (counts: PlanProgrammeCounts) =>
    firstDay === undefined ? 0 : (counts.by_day[firstDay]?.final_actions ?? 0);
  const firstDayNote =
    onFirstDay(after) !== onFirstDay(before)
      ? `, ${count(onFirstDay(after))} on the first day (were ${count(onFirstDay(before))})`
      : "";
  if (after.final_actions !== before.final_actions) {
    return `${name}: final actions ${count(after.final_actions)} within ${plural(days, "day")}, were ${count(before.final_actions)}${firstDayNote}${on("final_actions")}`;
  }
  if (after.final_actions > 0 && daysOf(after, "final_actions") !== daysOf(before, "final_actions")) {
    // As many accounts closed, but on other days (a shorter cadence closes them sooner).
    return `${name}: final actions ${count(after.final_actions)} within ${plural(days, "day")} as before, on other days${firstDayNote}${on("final_actions")}; sends ${count(after.sends)}, were ${count(before.sends)}`;
  }
  return `${name}: sends ${count(after.sends)} within ${plural(days, "day")}, were ${count(before.sends)}${on("sends")}`;
}

/** ` (days 2026-03-05: 4, …; were 2026-03-20: 14)`: the days of the new counts, and of the old ones when they differ. */
function dayList(row: PlanProgrammeRow, field: "sends" | "final_actions"): string {
  const after = daysOf(row.after, field);
  const before = daysOf(row.before, field);
  const parts: string[] = [];
  if (after) parts.push(`days ${after}`);
  if (before && before !== after) parts.push(`were ${before}`);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

function daysOf(counts: PlanProgrammeCounts | null, field: "sends" | "final_actions"): string {
  if (!counts) return "";
  const days = Object.entries(counts.by_day)
    .filter(([, day]) => day[field] > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, n]) => `${day}: ${count(n[field])}`);
  return days.length > DAYS_SHOWN ? `${days.slice(0, DAYS_SHOWN).join(", ")}, …` : days.join(", ");
}

function programmeDays(row: PlanProgrammeRow): string {
  const field =
    (row.after?.final_actions ?? 0) + (row.before?.final_actions ?? 0) > 0 ? "final_actions" : "sends";
  return dayList(row, field)
    .replace(/^ \((.*)\)$/, "$1")
    .replace(/^days /, "");
}

/**
 * Steps in the order a customer meets them: by their number (`day-3` before `day-14`, `30d-before`
 * before `7d-before`, since the reminder 30 days before comes first), `final` and `final-webhook` last.
 */
function byStepOrder(a: string, b: string): number {
  const rank = (step: string): [number, number, string] => {
    if (step.startsWith("final")) return [2, 0, step];
    const days = /^day-(\d+)$/.exec(step);
    if (days) return [0, Number(days[1]), step];
    const before = /^(\d+)d-before$/.exec(step);
    if (before) return [0, -Number(before[1]), step];
    return [1, 0, step];
  };
  const [x, y] = [rank(a), rank(b)];
  return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
}

/** `day-0 12, day-2 10 (was 0)`: every step, with its old count where it differs. */
function stepChanges(before: PlanProgrammeCounts | null, after: PlanProgrammeCounts | null): string {
  const names = [...new Set([...Object.keys(after?.steps ?? {}), ...Object.keys(before?.steps ?? {})])].sort(
    byStepOrder,
  );
  if (names.length === 0) return "";
  return names
    .map((name) => {
      const now = after?.steps[name] ?? 0;
      const was = before?.steps[name] ?? 0;
      return now === was ? `${name} ${count(now)}` : `${name} ${count(now)} (was ${count(was)})`;
    })
    .join(", ");
}

/**
 * Names an offer row: the context, with the cancellation reason asked with (`cancel_flow
 * (reason: too_expensive)`); the ask without a reason is `(no reason)` where the context has reason rows.
 */
function offerLabel(plan: PlanReport): (row: PlanOfferRow) => string {
  const withReasons = new Set(plan.offers.filter((row) => row.reason !== null).map((row) => row.context));
  return (row) =>
    row.reason !== null
      ? `${row.context} (reason: ${row.reason})`
      : withReasons.has(row.context)
        ? `${row.context} (no reason)`
        : row.context;
}

function costRows(row: PlanOfferRow): string[][] {
  const currencies = [...new Set([...Object.keys(row.cost_before), ...Object.keys(row.cost_after)])].sort();
  const rows = currencies.map((currency) => [
    currency,
    money(row.cost_before[currency] ?? 0, currency),
    money(row.cost_after[currency] ?? 0, currency),
  ]);
  if (row.unpriced_before > 0 || row.unpriced_after > 0) {
    rows.push(["offers of unknown cost", count(row.unpriced_before), count(row.unpriced_after)]);
  }
  if (rows.length === 0) rows.push(["none", "–", "–"]);
  return rows;
}

function unchangedSummary(parts: Split): string {
  return [
    plural(parts.segments.same.length, "segment"),
    plural(parts.offers.same.length, "offer context"),
    plural(parts.campaigns.same.length, "campaign step"),
    plural(parts.programmes.same.length, "programme"),
  ].join(", ");
}

function costLine(plan: PlanReport): string {
  return `Cost: ${count(plan.cost.rows_read)} rows read, ${plural(plan.cost.queries, "query", "queries")}, ${plural(plan.cost.pages, "page")}`;
}

function segmentExamples(row: PlanSegmentRow): string {
  const parts: string[] = [];
  if (row.entering_examples.length > 0) parts.push(`entering ${row.entering_examples.join(", ")}`);
  if (row.leaving_examples.length > 0) parts.push(`leaving ${row.leaving_examples.join(", ")}`);
  return parts.join("; ");
}

/** Minor units in the currency's format; a currency Intl does not know stays in minor units. */
function money(amount: number, currency: string): string {
  try {
    return formatMoney({ amount, currency });
  } catch {
    return `${count(amount)} ${currency} (minor units)`;
  }
}

/** `120 → 134`, or `120` when the same; `–` for a side where the row is not in that ruleset. */
function change(before: number | null, after: number | null): string {
  if (before === after) return before === null ? "–" : count(before);
  return `${before === null ? "–" : count(before)} → ${after === null ? "–" : count(after)}`;
}

function membersCell(members: number | null): string {
  return members === null ? "–" : count(members);
}

function signed(n: number, sign: string): string {
  return n === 0 ? "0" : `${sign}${count(n)}`;
}

function offerName(key: string | null): string {
  return key ?? "(none)";
}

/** `2026-03-10 09:00Z` from an ISO instant (seconds shown only when not zero). */
function shortTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?(\.\d+)?Z$/.exec(iso);
  if (!match) return iso;
  const seconds = match[3] && match[3] !== ":00" ? match[3] : "";
  return `${match[1]} ${match[2]}${seconds}Z`;
}

function shortVersion(version: string): string {
  return version.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1");
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

function capitalise(text: string): string {
  return `${text[0]!.toUpperCase()}${text.slice(1)}`;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function total<T>(items: readonly T[], pick: (item: T) => number): number {
  let sum = 0;
  for (const item of items) sum += pick(item);
  return sum;
}

function partition<T>(rows: readonly T[], changes: (row: T) => boolean): { changed: T[]; same: T[] } {
  const changed: T[] = [];
  const same: T[] = [];
  for (const row of rows) (changes(row) ? changed : same).push(row);
  return { changed, same };
}

/** Deep equality of JSON values, whatever the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Columns padded to their widest cell; `right[i]` right-aligns column i (numbers). */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly boolean[],
): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly boolean[],
): string[] {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
  return [
    line(header),
    `| ${header.map((_, i) => (right[i] ? "---:" : "---")).join(" | ")} |`,
    ...rows.map(line),
  ];
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** `dunning standard`; the card reminders, whose key is their programme, once: `card_expiry`. */
function programmeName(row: PlanProgrammeRow): string {
  return row.key === row.programme ? row.programme : `${row.programme} ${row.key}`;
}

/**
 * Open dunning cases whose cadence the proposed rules lack (a cadence renamed or removed): the tick
 * leaves them open and sends them nothing more. Null when there are none.
 */
function strandedCasesWarning(plan: PlanReport): string | null {
  const stranded = plan.open_cases_without_cadence;
  if (!stranded || stranded.after === 0 || stranded.after <= stranded.before) return null;
  return `${plural(stranded.after, "open dunning case")} belong${stranded.after === 1 ? "s" : ""} to a cadence the proposed rules do not have (renamed or removed): the tick would leave ${stranded.after === 1 ? "it" : "them"} open and send ${stranded.after === 1 ? "it" : "them"} nothing more. Keep the cadence's key, or close those cases first.`;
}
