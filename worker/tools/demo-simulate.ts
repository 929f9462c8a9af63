/**
 * The demo simulation's driver: lives through demo-world.ts's company day by day against a running
 * Worker, through the public HTTP API only, so what the demo shows is what Rebound's own ingest,
 * decisions and tick did. Each day: POST the day's events, put each moment to the API (a cancel
 * flow's decision and its answer with X-Rebound-Now at the moment; accepting a win-back offer on the
 * way back), POST the customers' follow-up events, run the tick at the day's hour, read back what it
 * sent (GET /v1/sends) and show it to the world.
 *
 * Done once: a marker customer appears after the last day, and its presence ends the next run at
 * once. An interrupted run resumes: the world is saved after every day (and each cancel-flow
 * decision as it is made) in `progressFile`; replaying part of a day resends events (duplicates by
 * id) and reticks (idempotent) without asking a decision twice.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { DemoEvent } from "./demo-data";
import {
  cancelFlowChoice,
  census,
  createWorld,
  DEMO_WORLD_DEFAULTS,
  type DemoTally,
  type DemoWorldOptions,
  type Moment,
  planDay,
  type SeenSend,
  seeSends,
  settleCancelFlow,
  settleReturn,
  tickAt,
  type WorldState,
} from "./demo-world";

/** The customer whose existence says the whole simulation is in. */
export const DEMO_MARKER_CUSTOMER = "demo-simulated";

/** POST /v1/events takes at most this many events per request. */
const BATCH_LIMIT = 500;
/** GET /v1/sends pages at most this many sends. */
const SENDS_PAGE = 200;
/** Re-ticks a minute apart while a campaign run is paused on the tick's query budget. */
const MAX_RETICKS = 20;
const PROGRESS_VERSION = 1;

export interface SimulationOptions extends Partial<Omit<DemoWorldOptions, "anchor">> {
  url: string;
  adminKey: string;
  /** The world's "now" (today's UTC midnight in npm start); a resumed run keeps the one it started with. */
  anchor: number;
  /** Where the run keeps its progress so an interrupted run resumes; null: it cannot resume. */
  progressFile: string | null;
  /** Progress lines (a few per run); silent when absent. */
  log?: (line: string) => void;
  /** Aborting stops the run at the end of the current day, its progress saved. */
  signal?: AbortSignal;
}

/** What Rebound did over the simulated days, from the tick reports and the sends read back. */
export interface ReboundTally {
  ticks: number;
  campaignRuns: number;
  campaignAudience: number;
  campaignSent: number;
  campaignHeldOut: number;
  dunningOpened: number;
  dunningRecovered: number;
  dunningFinal: number;
  dunningCanceled: number;
  sends: Record<string, number>;
  requests: number;
}

export interface DemoSummary {
  options: DemoWorldOptions;
  customers: number;
  paying: number;
  canceled: number;
  mrr: Record<string, number>;
  world: DemoTally;
  rebound: ReboundTally;
  elapsedMs: number;
}

export type SimulationResult =
  | { outcome: "simulated"; summary: DemoSummary; resumedAtDay: number | null }
  /** The marker was there: nothing was sent. The summary is the one the finished run saved, if any. */
  | { outcome: "already_loaded"; summary: DemoSummary | null }
  | { outcome: "stopped"; day: number }
  /** Demo customers without the marker or a progress file to resume: left alone. */
  | { outcome: "foreign_data"; message: string };

interface Progress {
  version: number;
  historySent: boolean;
  /** The world at the end of the last finished day (JSON of WorldState). */
  world: string;
  rebound: ReboundTally;
  lastTickAt: number;
  elapsedMs: number;
  /** The day being run and the cancel-flow decisions already made in it. */
  journal: { day: number; answers: Record<string, JournalEntry> };
  summary: DemoSummary | null;
}

interface JournalEntry {
  decisionId: string;
  rewardType: string | null;
}

/**
 * Runs the demo simulation against `options.url` unless its marker is there.
 *
 * @example await simulateDemo({ url: "http://localhost:8787", adminKey, anchor, progressFile: ".wrangler/state/demo-simulation.json" })
 */
export async function simulateDemo(options: SimulationOptions): Promise<SimulationResult> {
  const api = new ReboundApi(options.url, options.adminKey);
  const log = options.log ?? (() => {});
  const saved = options.progressFile ? readProgress(options.progressFile) : null;

  if ((await api.call("GET", `/v1/customers/${DEMO_MARKER_CUSTOMER}`)).status === 200) {
    return { outcome: "already_loaded", summary: saved?.summary ?? null };
  }
  const firstCustomer = await api.call("GET", "/v1/customers/demo-0001");
  let progress: Progress;
  let resumedAtDay: number | null = null;
  if (saved && (firstCustomer.status === 200 || !saved.historySent)) {
    progress = saved;
    resumedAtDay = (JSON.parse(saved.world) as WorldState).nextDay;
  } else if (firstCustomer.status === 200) {
    return {
      outcome: "foreign_data",
      message:
        "the database already holds demo customers, from an earlier version of the demo or from a run whose progress file is gone; delete .wrangler/state to load the simulated months",
    };
  } else {
    const worldOptions: DemoWorldOptions = {
      anchor: options.anchor,
      seed: options.seed ?? DEMO_WORLD_DEFAULTS.seed,
      days: options.days ?? DEMO_WORLD_DEFAULTS.days,
      initialCustomers: options.initialCustomers ?? DEMO_WORLD_DEFAULTS.initialCustomers,
      signupsPerMonth: options.signupsPerMonth ?? DEMO_WORLD_DEFAULTS.signupsPerMonth,
      historyDays: options.historyDays ?? DEMO_WORLD_DEFAULTS.historyDays,
      monthlyChurn: options.monthlyChurn ?? DEMO_WORLD_DEFAULTS.monthlyChurn,
      paymentFailure: options.paymentFailure ?? DEMO_WORLD_DEFAULTS.paymentFailure,
    };
    progress = {
      version: PROGRESS_VERSION,
      historySent: false,
      world: JSON.stringify(createWorld(worldOptions).state),
      rebound: emptyRebound(),
      lastTickAt: tickAt(worldOptions, 0) - 24 * 3_600_000,
      elapsedMs: 0,
      journal: { day: 0, answers: {} },
      summary: null,
    };
  }
  const run = new Run(api, progress, options.progressFile, log);
  const state = JSON.parse(progress.world) as WorldState;
  if (resumedAtDay !== null) {
    log(`demo: resuming the simulation at day ${resumedAtDay + 1} of ${state.options.days}`);
  }
  if (!progress.historySent) {
    // Saved first, so a start interrupted while sending the past resumes instead of finding strangers.
    run.save(state);
    const { history } = createWorld(state.options);
    await run.ingest(history);
    progress.historySent = true;
    run.save(state);
    const start = census(state);
    log(
      `demo: the past of ${state.options.initialCustomers} customers sent (${history.length} events): ${start.paying} paying, ${start.canceled} canceled when day 1 starts (${run.seconds()})`,
    );
  }
  const stopped = await run.days(state, options.signal);
  if (stopped !== null) return { outcome: "stopped", day: stopped };

  // The marker goes last: its presence means every day above is in.
  const lastTick = tickAt(state.options, state.options.days - 1);
  await run.ingest([
    {
      id: `${DEMO_MARKER_CUSTOMER}.1`,
      type: "customer.updated",
      customer_id: DEMO_MARKER_CUSTOMER,
      occurred_at: new Date(lastTick).toISOString(),
      properties: { attributes: { demo_days: state.options.days, demo_seed: state.options.seed } },
    },
  ]);
  const summary = run.summary(state);
  progress.summary = summary;
  run.save(state);
  return { outcome: "simulated", summary, resumedAtDay };
}

/** The summary as a few lines for a terminal. */
export function summaryLines(summary: DemoSummary): string[] {
  const world = summary.world;
  const rebound = summary.rebound;
  const reasons = Object.entries(world.cancellations)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  const mrr = Object.entries(summary.mrr)
    .sort()
    .map(([currency, amount]) => `${(amount / 100).toFixed(0)} ${currency}`)
    .join(", ");
  const sends = Object.entries(rebound.sends)
    .sort()
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  return [
    `${summary.options.days} days, ${summary.customers} customers (${world.signups} signed up), ${summary.paying} paying (MRR ${mrr}), ${summary.canceled} canceled`,
    `cancellations: ${reasons}`,
    `cancel flow: ${world.cancelFlows} asked, ${world.offersShown} offers, ${world.offersAccepted} accepted, ${world.offersDeclined} declined`,
    `payments: ${world.renewals} renewals, ${world.paymentsFailed} failed; dunning: ${rebound.dunningOpened} cases, ${rebound.dunningRecovered} recovered, ${rebound.dunningFinal} final`,
    `campaigns: ${rebound.campaignRuns} runs, ${rebound.campaignSent} sent, ${rebound.campaignHeldOut} held out; came back: ${world.returnedAfterMessage} after a message, ${world.returnedOnOwn} on their own, ${world.canceledAgain} left again`,
    `sends: ${sends}; ${world.historyEvents + world.events} events, ${rebound.ticks} ticks, ${rebound.requests} requests in ${(summary.elapsedMs / 1000).toFixed(1)} s`,
  ];
}

/** One run of the simulation: the API, the progress it saves, and the day loop. */
class Run {
  private readonly started = Date.now();
  private lastSave = Date.now();
  /** Requests earlier sessions of this run made. */
  private readonly requestsBefore: number;

  constructor(
    private readonly api: ReboundApi,
    private readonly progress: Progress,
    private readonly progressFile: string | null,
    private readonly log: (line: string) => void,
  ) {
    this.requestsBefore = progress.rebound.requests;
  }

  /** Runs the remaining days; answers the day it stopped at when aborted, else null. */
  async days(state: WorldState, signal: AbortSignal | undefined): Promise<number | null> {
    const total = state.options.days;
    const every = Math.max(1, Math.round(total / 6));
    for (let day = state.nextDay; day < total; day++) {
      if (signal?.aborted) return day;
      if (this.progress.journal.day !== day) this.progress.journal = { day, answers: {} };
      const plan = planDay(state, day);
      await this.ingest(plan.events);
      const followUps: DemoEvent[] = [];
      for (const moment of plan.moments) followUps.push(...(await this.settle(state, moment)));
      await this.ingest(followUps);
      const since = this.progress.lastTickAt;
      this.progress.lastTickAt = await this.tick(plan.tickAt);
      seeSends(state, await this.sendsBetween(since, this.progress.lastTickAt));
      state.nextDay = day + 1;
      this.save(state);
      if ((day + 1) % every === 0 || day + 1 === total) {
        const now = census(state);
        const canceled = Object.values(state.tally.cancellations).reduce((sum, n) => sum + n, 0);
        this.log(
          `demo: day ${day + 1}/${total} (${new Date(plan.tickAt).toISOString().slice(0, 10)}): ${now.paying} paying, ${canceled} cancellations, ${state.tally.paymentsFailed} failed payments, ${state.tally.returnedAfterMessage + state.tally.returnedOnOwn} came back (${this.seconds()})`,
        );
      }
    }
    return null;
  }

  /** Puts one moment to the API and answers the world's follow-up events. */
  private async settle(state: WorldState, moment: Moment): Promise<DemoEvent[]> {
    if (moment.kind === "return") {
      let accepted = false;
      if (moment.decisionId !== null) {
        // Taking the offer the message carried, a few minutes before subscribing again.
        const answer = await this.api.call("POST", `/v1/offers/${moment.decisionId}/accept`, {
          now: moment.at - 5 * 60_000,
        });
        // 409 or 410: declined earlier, expired, withdrawn or superseded; the customer returns anyway.
        if (answer.status !== 200 && answer.status !== 409 && answer.status !== 410) {
          throw unexpected("accepting a win-back offer", answer);
        }
        accepted = answer.status === 200;
      }
      return settleReturn(state, moment, accepted);
    }
    const key = `${moment.customerId}@${moment.at}`;
    let entry = this.progress.journal.answers[key];
    if (!entry) {
      const decision = await this.api.call<DecisionAnswer>("POST", "/v1/decisions", {
        now: moment.at,
        body: { customer_id: moment.customerId, context: "cancel_flow", reason: moment.reason },
      });
      if (decision.status !== 200) throw unexpected("the cancel flow's decision", decision);
      entry = {
        decisionId: decision.body.decision_id,
        rewardType: decision.body.offer ? String(decision.body.offer.reward?.type ?? "other") : null,
      };
      this.progress.journal.answers[key] = entry;
      this.write();
    }
    const choice = cancelFlowChoice(state, moment, entry.rewardType);
    if (choice !== null) {
      // Answered at the instant it was shown: an outstanding offer the decision reused cannot lapse
      // in between.
      const answer = await this.api.call("POST", `/v1/offers/${entry.decisionId}/${choice}`, {
        now: moment.at,
      });
      if (answer.status !== 200) throw unexpected(`answering the offer (${choice})`, answer);
    }
    return settleCancelFlow(state, moment, choice);
  }

  /** Runs the tick at `at` (again a minute later while a run is paused); answers the last tick's time. */
  private async tick(at: number): Promise<number> {
    const rebound = this.progress.rebound;
    let last = at;
    for (let attempt = 0; attempt <= MAX_RETICKS; attempt++) {
      last = at + attempt * 60_000;
      const answer = await this.api.call<{ tick: TickAnswer }>("POST", "/v1/admin/tick", {
        body: { at: new Date(last).toISOString() },
      });
      if (answer.status !== 200) throw unexpected("the tick", answer);
      const report = answer.body.tick;
      rebound.ticks += 1;
      for (const run of report.campaigns) {
        if (run.status !== "done") continue;
        rebound.campaignRuns += 1;
        rebound.campaignAudience += run.audience;
        rebound.campaignSent += run.sent;
        rebound.campaignHeldOut += run.holdout;
      }
      rebound.dunningOpened += report.dunning.opened;
      rebound.dunningRecovered += report.dunning.recovered;
      rebound.dunningFinal += report.dunning.final_actions;
      rebound.dunningCanceled += report.dunning.canceled;
      for (const error of report.errors)
        this.log(`demo: the tick at ${report.at} reported ${error.programme}: ${error.message}`);
      if (report.clean || report.errors.length > 0) break;
    }
    return last;
  }

  /** The sends ticks created in (since, until], newest first from GET /v1/sends. */
  private async sendsBetween(since: number, until: number): Promise<SeenSend[]> {
    const seen: SeenSend[] = [];
    let cursor: string | null = null;
    for (;;) {
      const query: string = cursor === null ? "" : `&cursor=${cursor}`;
      const page = await this.api.call<{ sends: SendAnswer[]; next_cursor: string | null }>(
        "GET",
        `/v1/sends?limit=${SENDS_PAGE}${query}`,
      );
      if (page.status !== 200) throw unexpected("listing sends", page);
      for (const send of page.body.sends) {
        const created = Date.parse(send.created_at);
        if (created <= since) return seen;
        if (created > until) continue;
        this.progress.rebound.sends[send.programme.kind] =
          (this.progress.rebound.sends[send.programme.kind] ?? 0) + 1;
        seen.push({
          customerId: send.customer_id,
          kind: send.programme.kind,
          key: send.programme.key,
          step: send.programme.step,
          variant: typeof send.variables.variant === "string" ? send.variables.variant : null,
          decisionId: typeof send.variables.decision_id === "string" ? send.variables.decision_id : null,
          offerKey: typeof send.variables.offer_key === "string" ? send.variables.offer_key : null,
          deliverAt: Date.parse(send.not_before ?? send.created_at),
        });
      }
      cursor = page.body.next_cursor;
      if (cursor === null) return seen;
    }
  }

  /** POSTs events in batches of at most BATCH_LIMIT that never split one customer's events. */
  async ingest(events: readonly DemoEvent[]): Promise<void> {
    for (const batch of batchesByCustomer(events)) {
      const answer = await this.api.call<{ conflicting_ids: string[] }>("POST", "/v1/events", {
        body: { events: batch },
      });
      if (answer.status !== 200) throw unexpected("sending events", answer);
      const conflicting = answer.body.conflicting_ids;
      if (conflicting.length > 0) {
        throw new Error(
          `demo: ${conflicting.length} events conflict with stored ones (${conflicting.slice(0, 3).join(", ")}): the database holds another demo run; delete .wrangler/state and start again`,
        );
      }
    }
  }

  /** Saves the world as it stands at the end of a day, with the run's counters. */
  save(state: WorldState): void {
    this.progress.world = JSON.stringify(state);
    this.progress.elapsedMs += Date.now() - this.lastSave;
    this.lastSave = Date.now();
    this.write();
  }

  private write(): void {
    this.progress.rebound.requests = this.requestsBefore + this.api.requests;
    if (!this.progressFile) return;
    mkdirSync(dirname(this.progressFile), { recursive: true });
    const temporary = `${this.progressFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.progress));
    renameSync(temporary, this.progressFile);
  }

  seconds(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1)} s`;
  }

  summary(state: WorldState): DemoSummary {
    const now = census(state);
    this.progress.rebound.requests = this.requestsBefore + this.api.requests;
    return {
      options: state.options,
      ...now,
      world: state.tally,
      rebound: this.progress.rebound,
      elapsedMs: this.progress.elapsedMs + (Date.now() - this.lastSave),
    };
  }
}

/** The parts of a decision the driver reads. */
interface DecisionAnswer {
  decision_id: string;
  offer: { reward: { type?: string } | null } | null;
}

/** The parts of a tick report the driver reads. */
interface TickAnswer {
  at: string;
  campaigns: { status: string; audience: number; sent: number; holdout: number }[];
  dunning: { opened: number; recovered: number; final_actions: number; canceled: number };
  errors: { programme: string; message: string }[];
  clean: boolean;
}

/** The parts of a send (GET /v1/sends) the driver reads. */
interface SendAnswer {
  customer_id: string;
  programme: { kind: string; key: string; step: string };
  variables: Record<string, unknown>;
  not_before: string | null;
  created_at: string;
}

/** The admin key's view of the API: JSON in and out, with X-Rebound-Now for simulated instants. */
class ReboundApi {
  requests = 0;

  constructor(
    private readonly url: string,
    private readonly adminKey: string,
  ) {}

  /** Sends one request; `T` is the shape of a successful answer (the caller checks the status). */
  async call<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; now?: number } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.adminKey}` };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.now !== undefined) headers["x-rebound-now"] = new Date(options.now).toISOString();
    this.requests += 1;
    const response = await fetch(this.url + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as T };
  }
}

function unexpected(what: string, answer: { status: number; body: unknown }): Error {
  return new Error(`demo: ${what} answered ${answer.status} ${JSON.stringify(answer.body)}`);
}

function emptyRebound(): ReboundTally {
  return {
    ticks: 0,
    campaignRuns: 0,
    campaignAudience: 0,
    campaignSent: 0,
    campaignHeldOut: 0,
    dunningOpened: 0,
    dunningRecovered: 0,
    dunningFinal: 0,
    dunningCanceled: 0,
    sends: {},
    requests: 0,
  };
}

/** The saved progress, or null when there is none or it is of another format. */
function readProgress(file: string): Progress | null {
  if (!existsSync(file)) return null;
  try {
    const progress = JSON.parse(readFileSync(file, "utf8")) as Progress;
    if (progress.version === PROGRESS_VERSION) return progress;
  } catch {
    // A torn or foreign file: start over below.
  }
  rmSync(file, { force: true });
  return null;
}

/** Batches of at most BATCH_LIMIT events that never split one customer's events. */
function* batchesByCustomer(events: readonly DemoEvent[]): Generator<DemoEvent[]> {
  const byCustomer = new Map<string, DemoEvent[]>();
  for (const event of events) {
    const list = byCustomer.get(event.customer_id);
    if (list) list.push(event);
    else byCustomer.set(event.customer_id, [event]);
  }
  let batch: DemoEvent[] = [];
  for (const list of byCustomer.values()) {
    if (batch.length + list.length > BATCH_LIMIT && batch.length > 0) {
      yield batch;
      batch = [];
    }
    batch.push(...list);
  }
  if (batch.length > 0) yield batch;
}
