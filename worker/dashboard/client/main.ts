/**
 * The dashboard page's script (bundled by worker/tools/build-dashboard.ts into /dashboard/app.js).
 * It reads the metrics API with the session cookie the sign-in set, draws each card from its
 * answer, and brings the sign-in form back when the key is refused. The page's root element
 * records the exact URL each card was read from (`data-source-<name>`), so a test can ask the API
 * the same questions.
 */
import { ApiFailure, getJson, SignedOut } from "./api";
import { note } from "./dom";
import {
  campaignsCard,
  churnCard,
  decisionsCard,
  dunningCard,
  type Frame,
  mrrCard,
  reasonsCard,
  sendsCard,
  winbackCard,
} from "./sections";
import type {
  Campaigns,
  Cancellations,
  Dunning,
  RecentDecisions,
  Retention,
  SendProblems,
  Winback,
} from "./types";

/** The API each card reads, by the name its `data-metric` fields start with. */
const SOURCES = {
  retention: "/v1/metrics/retention",
  cancellations: "/v1/metrics/cancellations",
  winback: "/v1/metrics/winback",
  dunning: "/v1/metrics/dunning",
  campaigns: "/v1/metrics/campaigns",
  decisions_recent: "/v1/metrics/decisions/recent",
  sends_problems: "/v1/metrics/sends/problems",
} as const;
type Source = keyof typeof SOURCES;

/** How many rows the two lists show. */
const LIST_LIMIT = 20;
/** The API's default period, which the first request leaves to it (it knows "today" in its zone). */
const DEFAULT_DAYS = 180;

interface Answers {
  retention?: Retention;
  cancellations?: Cancellations;
  winback?: Winback;
  dunning?: Dunning;
  campaigns?: Campaigns;
  decisions_recent?: RecentDecisions;
  sends_problems?: SendProblems;
}

const state = {
  /** The last day of every period shown: the API's "today" in the reporting zone, from its first answer. */
  anchor: null as string | null,
  currency: null as string | null,
  answers: {} as Answers,
  failures: {} as Partial<Record<Source, string>>,
  /** Bumped by every load, so a slow answer to an older question is dropped. */
  generation: 0,
};

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`the page has no ${selector}`);
  return found;
}

/** `YYYY-MM-DD` plus `days` (calendar arithmetic: the dates are local dates of the reporting zone). */
function addDays(day: string, days: number): string {
  const ms = Date.parse(`${day}T00:00:00Z`) + days * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}

function urlOf(source: Source, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  const text = query.toString();
  return text ? `${SOURCES[source]}?${text}` : SOURCES[source];
}

function controls(): { days: number; interval: string } {
  const form = element<HTMLFormElement>("#controls");
  const days = Number((form.elements.namedItem("days") as HTMLSelectElement).value) || DEFAULT_DAYS;
  const interval = (form.elements.namedItem("interval") as HTMLSelectElement).value || "month";
  return { days, interval };
}

function signedOut(failure: SignedOut): void {
  document.body.dataset.session = "signed-out";
  element("#sign-in-error").textContent =
    `The dashboard's key was refused (${failure.message}). Sign in again.`;
}

function setStatus(text: string): void {
  element("#status").textContent = text;
}

async function load(): Promise<void> {
  const generation = ++state.generation;
  const root = element("#dashboard");
  root.dataset.state = "loading";
  setStatus("Loading…");
  const { days, interval } = controls();
  const currency = state.currency ?? undefined;
  const answers: Answers = {};
  const failures: Partial<Record<Source, string>> = {};
  const sources: Partial<Record<Source, string>> = {};

  async function read<K extends Source>(source: K, url: string): Promise<void> {
    sources[source] = url;
    try {
      answers[source] = (await getJson(url)) as Answers[K];
    } catch (error) {
      if (error instanceof SignedOut) throw error;
      failures[source] = error instanceof ApiFailure ? error.message : String(error);
    }
  }

  try {
    // The first question leaves the period to the API, whose "today" is in the reporting zone; every
    // later one names its days, so all cards answer for the same ones.
    if (state.anchor === null) {
      await read("retention", urlOf("retention", { interval, currency }));
      state.anchor = answers.retention?.to ?? null;
      if (days !== DEFAULT_DAYS && state.anchor !== null) delete answers.retention;
    }
    const range = state.anchor === null ? {} : { from: addDays(state.anchor, 1 - days), to: state.anchor };
    if (!answers.retention) await read("retention", urlOf("retention", { ...range, interval, currency }));
    const shown = answers.retention?.currency ?? currency;
    const periodParams = { ...range, interval, currency: shown };
    await Promise.all([
      read("cancellations", urlOf("cancellations", periodParams)),
      read("winback", urlOf("winback", periodParams)),
      read("dunning", urlOf("dunning", periodParams)),
      read("campaigns", urlOf("campaigns", periodParams)),
      read("decisions_recent", urlOf("decisions_recent", { limit: String(LIST_LIMIT) })),
      read("sends_problems", urlOf("sends_problems", { limit: String(LIST_LIMIT) })),
    ]);
  } catch (error) {
    if (generation !== state.generation) return;
    if (error instanceof SignedOut) return signedOut(error);
    throw error;
  }
  if (generation !== state.generation) return;

  state.answers = answers;
  state.failures = failures;
  for (const [source, url] of Object.entries(sources))
    root.setAttribute(`data-source-${source.replace("_", "-")}`, url);
  if (answers.retention) {
    state.currency = answers.retention.currency;
    fillCurrencies(answers.retention);
    const r = answers.retention;
    element("#range").textContent = `${r.from} to ${r.to} · ${r.timezone}`;
  }
  draw();
  const failed = Object.keys(failures).length;
  setStatus(failed === 0 ? "" : `${failed} of ${Object.keys(sources).length} reports could not be read.`);
  root.dataset.state = "ready";
}

function fillCurrencies(retention: Retention): void {
  const select = element<HTMLSelectElement>("#controls select[name=currency]");
  const codes = [...new Set([retention.currency, ...retention.currencies])].sort();
  select.replaceChildren(...codes.map((code) => new Option(code, code, false, code === retention.currency)));
}

/** Fills a card from its answer, or says why it cannot. */
function fill(cardId: string, source: Source, render: () => Node[]): void {
  const body = element(`#${cardId} .body`);
  const failure = state.failures[source];
  if (failure !== undefined) {
    body.replaceChildren(note(`Could not read ${SOURCES[source]}: ${failure}`, "error"));
    return;
  }
  if (!state.answers[source]) return;
  body.replaceChildren(...render());
}

function frameOf(cardId: string): Frame {
  const body = element(`#${cardId} .body`);
  return { width: Math.max(260, Math.floor(body.clientWidth)) };
}

function draw(): void {
  const a = state.answers;
  fill("card-mrr", "retention", () => mrrCard(a.retention!, frameOf("card-mrr")));
  fill("card-churn", "retention", () => churnCard(a.retention!, frameOf("card-churn")));
  fill("card-reasons", "cancellations", () => reasonsCard(a.cancellations!));
  fill("card-winback", "winback", () => winbackCard(a.winback!));
  fill("card-dunning", "dunning", () => dunningCard(a.dunning!));
  fill("card-campaigns", "campaigns", () => campaignsCard(a.campaigns!, frameOf("card-campaigns")));
  fill("card-decisions", "decisions_recent", () => decisionsCard(a.decisions_recent!));
  fill("card-sends", "sends_problems", () => sendsCard(a.sends_problems!));
}

function start(): void {
  if (document.body.dataset.session !== "signed-in") return;
  const form = element<HTMLFormElement>("#controls");
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", (event) => {
    const target = event.target as HTMLSelectElement;
    if (target.name === "currency") state.currency = target.value;
    void load();
  });
  let lastWidth = window.innerWidth;
  let pending: number | undefined;
  window.addEventListener("resize", () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(() => {
      if (window.innerWidth === lastWidth) return;
      lastWidth = window.innerWidth;
      draw();
    }, 150);
  });
  void load().catch((error: unknown) => {
    setStatus(`The dashboard failed: ${error instanceof Error ? error.message : String(error)}`);
    element("#dashboard").dataset.state = "failed";
  });
}

start();
