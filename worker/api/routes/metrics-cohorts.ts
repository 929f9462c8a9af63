/**
 * The metrics read at request time from the period's cohorts, and the lists behind every figure
 * (docs/metrics.md defines each):
 * - `GET /v1/metrics/winback`: targeted, reactivated, revenue since, re-churn within 30 and 90 days;
 * - `GET /v1/metrics/campaigns?campaign=`: per campaign, step and variant, with lift against the holdout;
 * - lists, keyset-paginated (`?cursor=&limit=`, answer `{ items, next_cursor }`) or CSV
 *   (`?format=csv`, a `Link: <…>; rel="next"` header while there is more):
 *   `/v1/metrics/winback/customers`, `/v1/metrics/offers/decisions`, `/v1/metrics/campaigns/customers`,
 *   `/v1/metrics/cancellations/customers`, `/v1/metrics/dunning/cases`,
 *   `/v1/metrics/decisions/recent`, `/v1/metrics/sends/problems`.
 * Every JSON answer ends with what it cost in D1 (`cost: { queries, rows_read }`). No answer
 * carries a recipient address. On a sharded deployment the figures are computed once over every
 * shard's rows, the lists merge every shard's page on their key (worker/metrics/lists.ts
 * `listOfShards`), and `cost` sums the shards and adds `shards`.
 */
import type { Context } from "hono";
import type { CountedD1 } from "../../db/counted";
import { countedShards, reportedCost } from "../../db/shard-reads";
import { type ErrorDetail, validationFailed } from "../../errors";
import { csvDocument } from "../../metrics/csv";
import { dayIso } from "../../metrics/days";
import {
  type CohortPeriod,
  type CursorKey,
  cohortPeriod,
  DUNNING_LIST_STATUSES,
  type DunningCaseItem,
  decodeCursor,
  keyTime,
  LIST_LIMITS,
  type ListAnswer,
  listCanceledCustomers,
  listDunningCases,
  listOfferDecisions,
  listOfShards,
  listProblemSends,
  listRecentDecisions,
  OFFER_LIST_STATUSES,
  type PageRequest,
} from "../../metrics/lists";
import { PERIOD_PARAMETERS, periodHeader, readPeriod } from "../../metrics/period";
import { CAMPAIGN_GROUPS, listCampaignCustomers, readCampaignsOfShards } from "../../metrics/read-campaigns";
import { listWinbackCustomers, readWinbackOfShards, WINBACK_LIST_STATUSES } from "../../metrics/read-winback";
import type { AppEnv, RouteDef } from "../app-env";
import {
  campaignCustomersDoc,
  campaignsDoc,
  canceledCustomersDoc,
  dunningCaseListDoc,
  offerDecisionsDoc,
  problemSendsDoc,
  recentDecisionsDoc,
  winbackCustomersDoc,
  winbackDoc,
} from "../docs/metrics-cohorts";
import { idProblems } from "../identifiers";
import { queryParameterProblems } from "../query-parameters";
import { requestNow } from "./request-now";

/** The parameters of the period lists: the period's days, not its interval or currency. */
const LIST_PERIOD_PARAMETERS = ["from", "to"] as const;

/**
 * Checks a metrics request's parameters: the period ones (`periodNames`, worker/metrics/period.ts)
 * and the route's own `extra`, which `parse` reads (adding a problem for each bad value). One 400
 * names every bad parameter.
 */
function readRequest<Parsed>(
  c: Context<AppEnv>,
  names: { period: readonly string[]; extra: readonly string[] },
  parse: (query: URLSearchParams, problems: ErrorDetail[]) => Parsed,
): { now: number; period: CohortPeriod; parsed: Parsed } {
  const problems = queryParameterProblems(c.req.url, [...names.period, ...names.extra]);
  const now = requestNow(c);
  const { period, problems: periodProblems } = readPeriod(c.req.url, c.get("ruleset"), now);
  problems.push(
    ...periodProblems.filter((problem) => !problems.some((known) => known.path === problem.path)),
  );
  const parsed = parse(new URL(c.req.url).searchParams, problems);
  if (problems.length > 0) throw validationFailed(problems);
  return { now, period: cohortPeriod(period, c.get("ruleset")), parsed };
}

/** The value of `name` if it is one of `allowed`, else a problem and null. */
function oneOf<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
  problems: ErrorDetail[],
): T | null {
  const value = query.get(name);
  if (value === null) return null;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  problems.push({ path: `?${name}`, message: `must be one of ${allowed.join(", ")}` });
  return null;
}

/** An id-like filter (`?offer=`, `?campaign=`): null when absent; an empty one is a problem. */
function idFilter(query: URLSearchParams, name: string, problems: ErrorDetail[]): string | null {
  const value = query.get(name);
  if (value === null) return null;
  problems.push(...idProblems(value, `?${name}`));
  return value;
}

/** A yes/no filter (`?converted=`): true, false, or null when absent. */
function booleanFilter(query: URLSearchParams, name: string, problems: ErrorDetail[]): boolean | null {
  const value = query.get(name);
  if (value === null) return null;
  if (value === "true" || value === "false") return value === "true";
  problems.push({ path: `?${name}`, message: "must be true or false" });
  return null;
}

const LIST_PARAMETERS = ["cursor", "limit", "format"] as const;
const FORMATS = ["json", "csv"] as const;

/** `?limit`, `?cursor` (checked against the list's key shape) and `?format` of a list request. */
function readPage(
  query: URLSearchParams,
  cursorShape: readonly ("number" | "string")[],
  problems: ErrorDetail[],
): PageRequest & { format: "json" | "csv" } {
  let limit: number = LIST_LIMITS.defaultPageSize;
  const limitText = query.get("limit");
  if (limitText !== null) {
    limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > LIST_LIMITS.maxPageSize) {
      problems.push({
        path: "?limit",
        message: `must be a whole number from 1 to ${LIST_LIMITS.maxPageSize}`,
      });
      limit = LIST_LIMITS.defaultPageSize;
    }
  }
  let after: CursorKey[] | null = null;
  const cursorText = query.get("cursor");
  if (cursorText !== null) {
    after = decodeCursor(cursorText, cursorShape);
    if (after === null)
      problems.push({ path: "?cursor", message: "must be the next_cursor of a previous page" });
  }
  const format = oneOf(query, "format", FORMATS, problems) ?? "json";
  return { limit, after, format };
}

/** A list in JSON (`{ ...header, items, next_cursor, cost }`) or as a CSV attachment. */
function answerList<Item>(
  c: Context<AppEnv>,
  db: readonly CountedD1[],
  list: ListAnswer<Item>,
  options: { format: "json" | "csv"; name: string; header: Record<string, unknown> },
): Response {
  if (options.format === "json") {
    return c.json({
      ...options.header,
      items: list.items,
      next_cursor: list.nextCursor,
      cost: reportedCost(db),
    });
  }
  const headers: Record<string, string> = {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${options.name}.csv"`,
  };
  if (list.nextCursor !== null) {
    const next = new URL(c.req.url);
    next.searchParams.set("cursor", list.nextCursor);
    headers.link = `<${next.toString()}>; rel="next"`;
  }
  return c.body(csvDocument(list.columns, list.items), 200, headers);
}

/** `name-FROM-TO` for a period's export file. */
function fileName(name: string, period: CohortPeriod): string {
  return `${name}-${dayIso(period.from)}-${dayIso(period.to)}`;
}

async function winback(c: Context<AppEnv>): Promise<Response> {
  const { now, period } = readRequest(c, { period: PERIOD_PARAMETERS, extra: [] }, () => null);
  const db = countedShards(c.env);
  const figures = await readWinbackOfShards(db, period, c.get("ruleset").winbackWindowMs, now);
  return c.json({
    ...periodHeader(period),
    interval: period.interval,
    currency: period.currency,
    ...figures,
    periods: figures.periods.map((span) => ({ ...span, start: dayIso(span.start), end: dayIso(span.end) })),
    cost: reportedCost(db),
  });
}

async function campaigns(c: Context<AppEnv>): Promise<Response> {
  const { period, parsed: campaign } = readRequest(
    c,
    { period: PERIOD_PARAMETERS, extra: ["campaign"] },
    (query, problems) => idFilter(query, "campaign", problems),
  );
  const db = countedShards(c.env);
  const figures = await readCampaignsOfShards(db, period, c.get("ruleset"), campaign);
  return c.json({
    ...periodHeader(period),
    campaigns: figures,
    cost: reportedCost(db),
  });
}

async function winbackCustomers(c: Context<AppEnv>): Promise<Response> {
  const { now, period, parsed } = readRequest(
    c,
    { period: LIST_PERIOD_PARAMETERS, extra: [...LIST_PARAMETERS, "status"] },
    (query, problems) => ({
      status: oneOf(query, "status", WINBACK_LIST_STATUSES, problems) ?? "targeted",
      page: readPage(query, ["number", "string"], problems),
    }),
  );
  const db = countedShards(c.env);
  const list = await listOfShards(
    db,
    parsed.page.limit,
    (shard) =>
      listWinbackCustomers(shard, {
        ...parsed.page,
        period,
        now,
        status: parsed.status,
        windowMs: c.get("ruleset").winbackWindowMs,
      }),
    (item) => [keyTime(item.targeted_at), item.first_send_id],
    "asc",
  );
  return answerList(c, db, list, {
    format: parsed.page.format,
    name: fileName(`winback-${parsed.status}`, period),
    header: { ...periodHeader(period), status: parsed.status },
  });
}

async function offerDecisions(c: Context<AppEnv>): Promise<Response> {
  const { now, period, parsed } = readRequest(
    c,
    { period: LIST_PERIOD_PARAMETERS, extra: [...LIST_PARAMETERS, "status", "offer", "reason"] },
    (query, problems) => ({
      status: oneOf(query, "status", OFFER_LIST_STATUSES, problems) ?? "shown",
      offer: idFilter(query, "offer", problems),
      reason: idFilter(query, "reason", problems),
      page: readPage(query, ["number", "string"], problems),
    }),
  );
  const db = countedShards(c.env);
  const list = await listOfShards(
    db,
    parsed.page.limit,
    (shard) => listOfferDecisions(shard, { ...parsed.page, ...parsed, period, now }),
    (item) => [keyTime(item.created_at), item.id],
    "asc",
  );
  return answerList(c, db, list, {
    format: parsed.page.format,
    name: fileName(`offers-${parsed.status}`, period),
    header: { ...periodHeader(period), status: parsed.status },
  });
}

async function campaignCustomers(c: Context<AppEnv>): Promise<Response> {
  const { period, parsed } = readRequest(
    c,
    { period: LIST_PERIOD_PARAMETERS, extra: [...LIST_PARAMETERS, "campaign", "step", "group", "converted"] },
    (query, problems) => {
      const step = query.get("step");
      if (step !== null && !/^\d{1,4}$/.test(step)) {
        problems.push({
          path: "?step",
          message: "must be a step number: 0 for the first step, 1 for the next",
        });
      }
      return {
        campaign: idFilter(query, "campaign", problems),
        step,
        group: oneOf(query, "group", CAMPAIGN_GROUPS, problems),
        converted: booleanFilter(query, "converted", problems),
        page: readPage(query, ["string", "string", "string", "string"], problems),
      };
    },
  );
  const db = countedShards(c.env);
  const list = await listOfShards(
    db,
    parsed.page.limit,
    (shard) => listCampaignCustomers(shard, { ...parsed.page, ...parsed, period, ruleset: c.get("ruleset") }),
    (item) => [item.campaign, item.occurrence, item.step, item.customer_id],
    "asc",
  );
  return answerList(c, db, list, {
    format: parsed.page.format,
    name: fileName(`campaign-customers${parsed.campaign === null ? "" : `-${parsed.campaign}`}`, period),
    header: periodHeader(period),
  });
}

async function canceledCustomers(c: Context<AppEnv>): Promise<Response> {
  const { period, parsed } = readRequest(
    c,
    { period: LIST_PERIOD_PARAMETERS, extra: [...LIST_PARAMETERS, "reason", "plan"] },
    (query, problems) => ({
      reason: idFilter(query, "reason", problems),
      plan: idFilter(query, "plan", problems),
      page: readPage(query, ["number", "string"], problems),
    }),
  );
  const db = countedShards(c.env);
  const list = await listOfShards(
    db,
    parsed.page.limit,
    (shard) => listCanceledCustomers(shard, { ...parsed.page, ...parsed, period }),
    (item) => [keyTime(item.canceled_at), item.customer_id],
    "asc",
  );
  return answerList(c, db, list, {
    format: parsed.page.format,
    name: fileName("cancellations", period),
    header: periodHeader(period),
  });
}

async function dunningCases(c: Context<AppEnv>): Promise<Response> {
  const { period, parsed } = readRequest(
    c,
    { period: LIST_PERIOD_PARAMETERS, extra: [...LIST_PARAMETERS, "status"] },
    (query, problems) => ({
      status: oneOf(query, "status", DUNNING_LIST_STATUSES, problems),
      page: readPage(query, ["number", "string", "string"], problems),
    }),
  );
  const db = countedShards(c.env);
  const listedAt = (item: DunningCaseItem) =>
    parsed.status === "recovered"
      ? item.recovered_at
      : parsed.status === "final" || parsed.status === "canceled"
        ? item.closed_at
        : item.opened_at;
  const list = await listOfShards(
    db,
    parsed.page.limit,
    (shard) => listDunningCases(shard, { ...parsed.page, period, status: parsed.status }),
    (item) => [keyTime(listedAt(item)), item.customer_id, item.invoice_id],
    "asc",
  );
  return answerList(c, db, list, {
    format: parsed.page.format,
    name: fileName(`dunning-cases${parsed.status === null ? "" : `-${parsed.status}`}`, period),
    header: { ...periodHeader(period), status: parsed.status },
  });
}

/** Lists that are not over a period (newest first): only the page parameters. */
function readUndatedPage(c: Context<AppEnv>): PageRequest & { format: "json" | "csv" } {
  const problems = queryParameterProblems(c.req.url, LIST_PARAMETERS);
  const page = readPage(new URL(c.req.url).searchParams, ["string"], problems);
  if (problems.length > 0) throw validationFailed(problems);
  return page;
}

async function recentDecisions(c: Context<AppEnv>): Promise<Response> {
  const page = readUndatedPage(c);
  const db = countedShards(c.env);
  const list = await listOfShards(
    db,
    page.limit,
    (shard) => listRecentDecisions(shard, page),
    (item) => [item.id],
    "desc",
  );
  return answerList(c, db, list, { format: page.format, name: "decisions-recent", header: {} });
}

async function problemSends(c: Context<AppEnv>): Promise<Response> {
  const page = readUndatedPage(c);
  const db = countedShards(c.env);
  const list = await listOfShards(
    db,
    page.limit,
    (shard) => listProblemSends(shard, page),
    (item) => [item.id],
    "desc",
  );
  return answerList(c, db, list, { format: page.format, name: "sends-problems", header: {} });
}

export const metricsCohortRoutes: RouteDef[] = [
  { method: "GET", path: "/v1/metrics/winback", scope: "metrics:read", handler: winback, doc: winbackDoc },
  {
    method: "GET",
    path: "/v1/metrics/campaigns",
    scope: "metrics:read",
    handler: campaigns,
    doc: campaignsDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/winback/customers",
    scope: "metrics:read",
    handler: winbackCustomers,
    doc: winbackCustomersDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/offers/decisions",
    scope: "metrics:read",
    handler: offerDecisions,
    doc: offerDecisionsDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/campaigns/customers",
    scope: "metrics:read",
    handler: campaignCustomers,
    doc: campaignCustomersDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/cancellations/customers",
    scope: "metrics:read",
    handler: canceledCustomers,
    doc: canceledCustomersDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/dunning/cases",
    scope: "metrics:read",
    handler: dunningCases,
    doc: dunningCaseListDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/decisions/recent",
    scope: "metrics:read",
    handler: recentDecisions,
    doc: recentDecisionsDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/sends/problems",
    scope: "metrics:read",
    handler: problemSends,
    doc: problemSendsDoc,
  },
];
