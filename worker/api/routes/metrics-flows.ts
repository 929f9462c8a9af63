/**
 * The metrics read from the daily `metric_days` aggregate (docs/metrics.md defines every figure):
 * - `GET /v1/metrics/retention`: customers and MRR at the start and end of each interval, their
 *   movements, churn and revenue retention rates;
 * - `GET /v1/metrics/cancellations`: cancellations by reason, plan and tenure, with the MRR lost;
 * - `GET /v1/metrics/offers?by=offer|reason|variant|context`: offers shown and what became of them;
 * - `GET /v1/metrics/dunning`: failed-payment cases opened, recovered, closed, by step and code.
 * Common parameters `from`, `to`, `interval`, `currency` (worker/metrics/period.ts); every answer
 * names its zone and period and ends with what it cost in D1 (`cost: { queries, rows_read }`).
 * On a sharded deployment every shard's aggregate is read (in parallel) and added up before any rate
 * is computed; `cost` sums the shards and adds `shards`.
 */
import type { Context } from "hono";
import type { CountedD1 } from "../../db/counted";
import { countedShards, reportedCost } from "../../db/shard-reads";
import { type ErrorDetail, validationFailed } from "../../errors";
import { type MetricsPeriod, PERIOD_PARAMETERS, periodHeader, readPeriod } from "../../metrics/period";
import { readCancellationsOfShards } from "../../metrics/read-cancellations";
import { readDunningOfShards } from "../../metrics/read-dunning";
import { OFFER_GROUPINGS, type OfferGrouping, readOffersOfShards } from "../../metrics/read-offers";
import { readRetentionOfShards } from "../../metrics/read-retention";
import type { AppEnv, RouteDef } from "../app-env";
import { cancellationsDoc, dunningDoc, offersDoc, retentionDoc } from "../docs/metrics-flows";
import { queryParameterProblems } from "../query-parameters";
import { requestNow } from "./request-now";

/**
 * The period of a metrics request, or a 400 naming every bad parameter. `extra` lists the route's
 * own parameters; `without` common ones it has no use for.
 */
function periodOf(
  c: Context<AppEnv>,
  options: {
    extra?: readonly string[];
    without?: readonly string[];
    check?: (problems: ErrorDetail[]) => void;
  } = {},
): MetricsPeriod {
  const allowed = [...PERIOD_PARAMETERS, ...(options.extra ?? [])].filter(
    (name) => !options.without?.includes(name),
  );
  const problems = queryParameterProblems(c.req.url, allowed);
  const { period, problems: valueProblems } = readPeriod(c.req.url, c.get("ruleset"), requestNow(c));
  problems.push(...valueProblems.filter((problem) => !problems.some((known) => known.path === problem.path)));
  options.check?.(problems);
  if (problems.length > 0) throw validationFailed(problems);
  return period;
}

function costOf(dbs: readonly CountedD1[]): { queries: number; rows_read: number; shards?: number } {
  return reportedCost(dbs);
}

/** A report in one currency over the period: its figures between the period's header and its cost. */
function currencyReport(
  read: (dbs: readonly D1Database[], period: MetricsPeriod) => Promise<object>,
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c) => {
    const period = periodOf(c);
    const db = countedShards(c.env);
    const figures = await read(db, period);
    return c.json({
      ...periodHeader(period),
      interval: period.interval,
      currency: period.currency,
      ...figures,
      cost: costOf(db),
    });
  };
}

const GROUPINGS = Object.keys(OFFER_GROUPINGS) as OfferGrouping[];

async function offers(c: Context<AppEnv>): Promise<Response> {
  const by = (c.req.query("by") ?? "offer") as OfferGrouping;
  // Offers are counted across currencies (an offer's cost may be in any); costs are listed per currency
  // and added up in the ruleset's currency with its exchange rates.
  const period = periodOf(c, {
    extra: ["by"],
    without: ["currency"],
    check: (problems) => {
      if (!GROUPINGS.includes(by))
        problems.push({ path: "?by", message: `must be one of ${GROUPINGS.join(", ")}` });
    },
  });
  const db = countedShards(c.env);
  const figures = await readOffersOfShards(db, period, by, c.get("ruleset").exchange);
  return c.json({
    ...periodHeader(period),
    interval: period.interval,
    by,
    ...figures,
    cost: costOf(db),
  });
}

export const metricsFlowRoutes: readonly RouteDef[] = [
  {
    method: "GET",
    path: "/v1/metrics/retention",
    scope: "metrics:read",
    handler: currencyReport(readRetentionOfShards),
    doc: retentionDoc,
  },
  {
    method: "GET",
    path: "/v1/metrics/cancellations",
    scope: "metrics:read",
    handler: currencyReport(readCancellationsOfShards),
    doc: cancellationsDoc,
  },
  { method: "GET", path: "/v1/metrics/offers", scope: "metrics:read", handler: offers, doc: offersDoc },
  {
    method: "GET",
    path: "/v1/metrics/dunning",
    scope: "metrics:read",
    handler: currencyReport(readDunningOfShards),
    doc: dunningDoc,
  },
];
