// How the pages of a plan add up (dsl/plan-report.ts mergePlanPages): whatever the page size, the
// merged plan is the plan the Worker would answer in one page. Synthetic customers, each with what
// the base and the proposed rules do to them, are cut into pages at random places (keyset order:
// customer ids by UTF-8 bytes, as SQLite orders them); each page is counted on its own, its rows in
// any order, and the merge of the pages must equal the count over everyone.
import { describe, expect, it } from "vitest";
import {
  compareCodePoints,
  mergePlanPages,
  PLAN_EXAMPLES,
  type PlanCampaignRow,
  type PlanCampaignStats,
  type PlanOfferRow,
  type PlanProgrammeCounts,
  type PlanProgrammeKind,
  type PlanProgrammeRow,
  type PlanReport,
  type PlanSegmentRow,
} from "../../dsl/plan-report";
import { prng } from "../prng";

/** What the base (0) and proposed (1) rules do to one customer. */
interface Customer {
  id: string;
  /** Per segment: member under [base, proposed]; undefined where the segment is not in that ruleset. */
  segments: Record<string, [boolean | undefined, boolean | undefined]>;
  /** Per ask (context and reason): the offer under [base, proposed], and whether a live offer is held. */
  offers: Record<string, { from: string | null; to: string | null; holding: boolean }>;
  /** Per campaign row: the outcome under [base, proposed] (null: not in the audience). */
  campaigns: Record<string, [Outcome | null, Outcome | null]>;
  /** Per programme: sends and a final action on a day, under [base, proposed]. */
  programmes: Record<string, [Programme | null, Programme | null]>;
}

type Outcome = "sent" | "holdout" | "frequency_capped" | "deferred" | "no_offer";
interface Programme {
  sends: { day: string; step: string }[];
  final: { day: string; cancels: boolean } | null;
}

const SEGMENTS: Record<string, [boolean, boolean]> = {
  at_risk: [true, true],
  loyal: [true, true],
  retired: [true, false],
  new_ünicode: [false, true],
};
/** The offer rows: the cancel flow asked with each declared reason and without one; win-back without. */
const ASKS: [string, string | null][] = [
  ["cancel_flow", null],
  ["cancel_flow", "too_expensive"],
  ["cancel_flow", "missing_features"],
  ["win_back", null],
];
const OFFERS = [null, "pause", "discount_50", "credit_eur", "mystery"];
/** The reward cost per offer, in minor units; `mystery` cannot be priced. */
const COST: Record<string, Record<string, number> | "unpriced"> = {
  pause: {},
  discount_50: { USD: 2500 },
  credit_eur: { EUR: 1000, USD: 100 },
  mystery: "unpriced",
};
const CAMPAIGNS: { row: Omit<PlanCampaignRow, "before" | "after">; in: [boolean, boolean] }[] = [
  {
    row: {
      campaign: "spring",
      occurrence: "2026-03-10T09:00:00.000Z",
      step: "0",
      due_at: "2026-03-10T09:00:00.000Z",
    },
    in: [true, true],
  },
  {
    row: {
      campaign: "spring",
      occurrence: "2026-03-10T09:00:00.000Z",
      step: "3d",
      due_at: "2026-03-13T09:00:00.000Z",
    },
    in: [true, true],
  },
  {
    row: {
      campaign: "autumn",
      occurrence: "2026-03-05T09:00:00.000Z",
      step: "0",
      due_at: "2026-03-05T09:00:00.000Z",
    },
    in: [false, true],
  },
];
const PROGRAMMES: { programme: PlanProgrammeKind; key: string; in: [boolean, boolean] }[] = [
  { programme: "dunning", key: "standard", in: [true, true] },
  { programme: "winback", key: "price", in: [true, false] },
  { programme: "card_expiry", key: "card_expiry", in: [false, true] },
];
const OUTCOMES: Outcome[] = ["sent", "holdout", "frequency_capped", "deferred", "no_offer"];
const DAYS = ["2026-03-03", "2026-03-05", "2026-03-10", "2026-03-28"];
const STEPS = ["day-0", "day-2", "day-5", "final"];
const ID_CHARS = ["a", "b", "B", "_", "0", "9", "é", "\uFF21", "\u{1F600}", "\u{10400}"];

function universe(seed: number, size: number): Customer[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const ids = new Set<string>();
  while (ids.size < size) {
    let id = "c";
    const length = 1 + Math.floor(random() * 4);
    for (let i = 0; i < length; i++) id += pick(ID_CHARS);
    ids.add(id);
  }
  const programme = (): Programme | null =>
    random() < 0.4
      ? null
      : {
          sends: Array.from({ length: Math.floor(random() * 3) }, () => ({
            day: pick(DAYS),
            step: pick(STEPS),
          })),
          final: random() < 0.3 ? { day: pick(DAYS), cancels: random() < 0.5 } : null,
        };
  return [...ids].map((id) => ({
    id,
    segments: Object.fromEntries(
      Object.entries(SEGMENTS).map(([name, inRules]) => [
        name,
        [inRules[0] ? random() < 0.5 : undefined, inRules[1] ? random() < 0.5 : undefined],
      ]),
    ),
    offers: Object.fromEntries(
      ASKS.map((ask) => {
        const from = pick(OFFERS);
        return [askKey(ask), { from, to: random() < 0.6 ? from : pick(OFFERS), holding: random() < 0.1 }];
      }),
    ),
    campaigns: Object.fromEntries(
      CAMPAIGNS.map(({ row, in: inRules }) => [
        campaignKey(row),
        [
          inRules[0] && random() < 0.6 ? pick(OUTCOMES) : null,
          inRules[1] && random() < 0.6 ? pick(OUTCOMES) : null,
        ],
      ]),
    ),
    programmes: Object.fromEntries(
      PROGRAMMES.map((p) => [
        `${p.programme}/${p.key}`,
        [p.in[0] ? programme() : null, p.in[1] ? programme() : null],
      ]),
    ),
  }));
}

function askKey([context, reason]: [string, string | null]): string {
  return `${context}/${reason ?? "(none)"}`;
}

function campaignKey(row: Omit<PlanCampaignRow, "before" | "after">): string {
  return `${row.campaign}/${row.occurrence}/${row.step}`;
}

/** Keyset order: UTF-8 bytes, as SQLite's BINARY collation compares customer ids. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function examples(ids: string[]): string[] {
  return [...ids].sort(byUtf8).slice(0, PLAN_EXAMPLES);
}

/** One page as the Worker counts it: every count over `customers`, rows in whatever order `shuffle` leaves them. */
function countPage(
  customers: Customer[],
  nextCursor: string | null,
  shuffle: <T>(items: T[]) => T[],
): PlanReport {
  const segments: PlanSegmentRow[] = Object.entries(SEGMENTS).map(([segment, inRules]) => {
    const entering = customers.filter((c) => c.segments[segment]![1] && !c.segments[segment]![0]);
    const leaving = customers.filter((c) => c.segments[segment]![0] && !c.segments[segment]![1]);
    return {
      segment,
      before: inRules[0] ? customers.filter((c) => c.segments[segment]![0]).length : null,
      after: inRules[1] ? customers.filter((c) => c.segments[segment]![1]).length : null,
      entering: entering.length,
      leaving: leaving.length,
      entering_examples: examples(entering.map((c) => c.id)),
      leaving_examples: examples(leaving.map((c) => c.id)),
    };
  });
  const offers: PlanOfferRow[] = ASKS.map(([context, reason]) => {
    const moves = new Map<string, { from: string | null; to: string | null; ids: string[] }>();
    const row: PlanOfferRow = {
      context,
      reason,
      moves: [],
      unchanged: 0,
      cost_before: {},
      cost_after: {},
      unpriced_before: 0,
      unpriced_after: 0,
      holding_offer: 0,
    };
    for (const customer of customers) {
      const { from, to, holding } = customer.offers[askKey([context, reason])]!;
      if (holding) row.holding_offer++;
      if (from === to) row.unchanged++;
      else {
        const key = `${from}→${to}`;
        const move = moves.get(key) ?? { from, to, ids: [] };
        move.ids.push(customer.id);
        moves.set(key, move);
      }
      addCost(from, row.cost_before, () => row.unpriced_before++);
      addCost(to, row.cost_after, () => row.unpriced_after++);
    }
    row.moves = shuffle(
      [...moves.values()].map((move) => ({
        from: move.from,
        to: move.to,
        customers: move.ids.length,
        examples: examples(move.ids),
      })),
    );
    return row;
  });
  const campaigns: PlanCampaignRow[] = CAMPAIGNS.map(({ row, in: inRules }) => ({
    ...row,
    before: inRules[0] ? campaignStats(customers.map((c) => c.campaigns[campaignKey(row)]![0])) : null,
    after: inRules[1] ? campaignStats(customers.map((c) => c.campaigns[campaignKey(row)]![1])) : null,
  }));
  const programmes: PlanProgrammeRow[] = PROGRAMMES.map((p) => ({
    programme: p.programme,
    key: p.key,
    before: p.in[0] ? programmeCounts(customers, `${p.programme}/${p.key}`, 0) : null,
    after: p.in[1] ? programmeCounts(customers, `${p.programme}/${p.key}`, 1) : null,
  }));
  return {
    at: "2026-03-03T15:00:00.000Z",
    until: "2026-04-02T15:00:00.000Z",
    days: 30,
    base: { version: "sha256:base", source: "deployed" },
    proposed: { version: "sha256:proposed" },
    customers: customers.length,
    // Per customer, so it adds across pages like every other count.
    open_cases_without_cadence: {
      before: customers.filter((customer) => customer.id.length % 2 === 0).length,
      after: customers.filter((customer) => customer.id.length % 3 === 0).length,
    },
    customers_with_offer_moves: customers.filter((customer) =>
      Object.values(customer.offers).some((offer) => offer.from !== offer.to),
    ).length,
    segments: shuffle(segments),
    offers: shuffle(offers),
    campaigns: shuffle(campaigns),
    programmes: shuffle(programmes),
    cost: { rows_read: customers.length * 3, queries: 4, pages: 1 },
    next_cursor: nextCursor,
  };
}

function addCost(offer: string | null, cost: Record<string, number>, unpriced: () => void): void {
  if (offer === null) return;
  const price = COST[offer]!;
  if (price === "unpriced") {
    unpriced();
    return;
  }
  for (const [currency, amount] of Object.entries(price)) cost[currency] = (cost[currency] ?? 0) + amount;
}

function campaignStats(outcomes: (Outcome | null)[]): PlanCampaignStats {
  const stats: PlanCampaignStats = {
    audience: 0,
    sent: 0,
    holdout: 0,
    frequency_capped: 0,
    deferred: 0,
    no_offer: 0,
  };
  for (const outcome of outcomes) {
    if (outcome === null) continue;
    stats.audience++;
    stats[outcome]++;
    if (outcome === "deferred") stats.sent++;
  }
  return stats;
}

function programmeCounts(customers: Customer[], key: string, side: 0 | 1): PlanProgrammeCounts {
  const counts: PlanProgrammeCounts = {
    sends: 0,
    final_actions: 0,
    cancels: 0,
    by_day: {},
    steps: {},
    customers: 0,
    examples: [],
  };
  const affected: string[] = [];
  for (const customer of customers) {
    const programme = customer.programmes[key]![side];
    if (!programme || (programme.sends.length === 0 && !programme.final)) continue;
    affected.push(customer.id);
    for (const send of programme.sends) {
      counts.sends++;
      counts.steps[send.step] = (counts.steps[send.step] ?? 0) + 1;
      dayOf(counts, send.day).sends++;
    }
    if (programme.final) {
      counts.final_actions++;
      if (programme.final.cancels) counts.cancels++;
      dayOf(counts, programme.final.day).final_actions++;
    }
  }
  counts.customers = affected.length;
  counts.examples = examples(affected);
  return counts;
}

function dayOf(counts: PlanProgrammeCounts, day: string): { sends: number; final_actions: number } {
  counts.by_day[day] ??= { sends: 0, final_actions: 0 };
  return counts.by_day[day];
}

/** The plan over everyone, rows in the order a merged plan keeps them. */
function wholePlan(customers: Customer[]): PlanReport {
  const plan = countPage(customers, null, (items) => items);
  plan.segments.sort((a, b) => byUtf8(a.segment, b.segment));
  plan.offers.sort((a, b) => byUtf8(a.context, b.context) || byNullFirst(a.reason, b.reason));
  for (const row of plan.offers) {
    // Largest first; ties by offer key, no offer before any.
    row.moves.sort(
      (a, b) => b.customers - a.customers || byNullFirst(a.from, b.from) || byNullFirst(a.to, b.to),
    );
  }
  plan.campaigns.sort(
    (a, b) => byUtf8(a.due_at, b.due_at) || byUtf8(a.campaign, b.campaign) || byUtf8(a.step, b.step),
  );
  plan.programmes.sort((a, b) => byUtf8(a.programme, b.programme) || byUtf8(a.key, b.key));
  return plan;
}

function byNullFirst(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return byUtf8(a, b);
}

/** The customers cut into pages at random places, each counted on its own, rows shuffled. */
function pagesOf(customers: Customer[], seed: number): PlanReport[] {
  const random = prng(seed);
  const shuffle = <T>(items: T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const sorted = [...customers].sort((a, b) => byUtf8(a.id, b.id));
  const pages: PlanReport[] = [];
  let start = 0;
  while (start < sorted.length) {
    const size = 1 + Math.floor(random() * 12);
    const slice = sorted.slice(start, start + size);
    start += size;
    pages.push(countPage(slice, start < sorted.length ? slice.at(-1)!.id : null, shuffle));
  }
  return pages;
}

/** A plan less its cost, which depends on how many pages it took. */
function withoutCost(plan: PlanReport): Omit<PlanReport, "cost"> {
  const { cost: _cost, ...rest } = plan;
  return rest;
}

describe("merging the pages of a plan", () => {
  it("gives the plan of one page over everyone, however the customers are paged", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const customers = universe(seed, 1 + (seed % 7) * 9);
      const pages = pagesOf(customers, seed * 7919);
      const merged = mergePlanPages(pages);
      expect(withoutCost(merged), `seed ${seed}, ${pages.length} pages`).toEqual(
        withoutCost(wholePlan(customers)),
      );
      expect(merged.cost).toEqual({
        rows_read: customers.length * 3,
        queries: 4 * pages.length,
        pages: pages.length,
      });
    }
  });

  it("answers a merged plan unchanged when merged again, and leaves the pages as they were", () => {
    const pages = pagesOf(universe(99, 40), 5);
    const before = structuredClone(pages);
    const merged = mergePlanPages(pages);
    expect(pages).toEqual(before);
    expect(mergePlanPages([merged])).toEqual(merged);
    expect(JSON.stringify(mergePlanPages([merged]))).toBe(JSON.stringify(merged));
  });

  it("keeps null for a segment, campaign step or programme that one ruleset does not have", () => {
    const merged = mergePlanPages(pagesOf(universe(3, 30), 11));
    expect(merged.segments.find((row) => row.segment === "retired")!.after).toBeNull();
    expect(merged.segments.find((row) => row.segment === "new_ünicode")!.before).toBeNull();
    expect(merged.campaigns.find((row) => row.campaign === "autumn")!.before).toBeNull();
    expect(merged.programmes.find((row) => row.programme === "winback")!.after).toBeNull();
    expect(merged.next_cursor).toBeNull();
  });

  it("keeps the first example ids by code point, as SQLite pages them (not by UTF-16 unit)", () => {
    const page = (ids: string[]): PlanReport => ({
      ...countPage([], "x", (items) => items),
      segments: [
        {
          segment: "s",
          before: 0,
          after: ids.length,
          entering: ids.length,
          leaving: 0,
          entering_examples: ids,
          leaving_examples: [],
        },
      ],
    });
    const merged = mergePlanPages([page(["c\u{1F600}", "c\uFF21", "cz"]), page(["ca", "cb", "c\u00e9"])]);
    expect(merged.segments[0]!.entering_examples).toEqual(["ca", "cb", "cz", "c\u00e9", "c\uFF21"]);
    expect(merged.segments[0]!.entering).toBe(6);
  });

  it("orders strings as UTF-8 bytes do", () => {
    const random = prng(17);
    for (let i = 0; i < 2000; i++) {
      const text = () =>
        Array.from(
          { length: Math.floor(random() * 4) },
          () => ID_CHARS[Math.floor(random() * ID_CHARS.length)],
        ).join("");
      const a = text();
      const b = text();
      expect(Math.sign(compareCodePoints(a, b)), `${a} vs ${b}`).toBe(Math.sign(byUtf8(a, b)));
    }
  });

  it("refuses to merge no pages at all", () => {
    expect(() => mergePlanPages([])).toThrow(/at least one page/);
  });
});
