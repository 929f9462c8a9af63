/**
 * `POST /v1/webhooks/stripe`, `/v1/webhooks/paddle`, `/v1/webhooks/chargebee`: billing providers'
 * webhooks as event sources (docs/providers.md). No API key (scope `provider`): each request is
 * authenticated with the provider's own signature or credentials over the raw body before anything
 * parses it (worker/providers/verify.ts), then mapped (worker/providers/{stripe,paddle,chargebee}.ts)
 * and written through ingest (worker/providers/ingest-provider-event.ts).
 *
 * Answers: 200 `{received, provider_event_id, outcome, events, duplicates}` for every authentic event,
 * whatever Rebound makes of it (a provider retries anything else for days); 401 for a missing, forged
 * or stale signature; 400 for a signed body that is not JSON or not an event; 503 when the
 * provider's secret is not configured. A delivery that stores nothing because its plan or reason maps
 * to nothing, or ingest refuses it, is held with its raw body for replay (`held` in the answer;
 * routes in provider-held.ts). `GET /v1/admin/provider-events` reads the counts and how many are held.
 *
 * On a sharded deployment the delivery's customer decides the shard: its events, its hold and its
 * count are written there (a delivery that names no customer is counted on the control database),
 * and `GET /v1/admin/provider-events` adds up every shard's counts (`meta: { shards, queries, rows_read }`).
 */
import type { Context } from "hono";
import { wallClock } from "../../clock";
import { compareText, readEveryShard } from "../../db/shard-reads";
import { controlDatabase, customerShard, isSharded } from "../../db/shards";
import type { Env } from "../../env";
import { ApiError, type ErrorDetail, validationFailed } from "../../errors";
import { REQUEST_LIMITS } from "../../limits";
import { type ProviderEventCount, readProviderEventCounts } from "../../providers/counts";
import { countHeld, customerOf } from "../../providers/held";
import { ingestProviderEvent, providerRules } from "../../providers/ingest-provider-event";
import { MAPPERS } from "../../providers/mappers";
import { type Mapped, PROVIDERS, type Provider } from "../../providers/mapping";
import { secretsOf, verifyChargebee, verifyPaddle, verifyStripe } from "../../providers/verify";
import type { AppEnv, RouteDef } from "../app-env";
import {
  providerEventsDoc,
  providerHeldDoc,
  providerReplayDoc,
  providerWebhookDoc,
} from "../docs/provider-webhooks";
import { readBodyBytes } from "../json-body";
import { queryParameterProblems } from "../query-parameters";
import { listHeldDeliveries, replayHeldDeliveries } from "./provider-held";

/** Each provider's authentication. */
const PROVIDER_HANDLING: Readonly<
  Record<Provider, { verify: (c: Context<AppEnv>, rawBody: Uint8Array, nowMs: number) => Promise<void> }>
> = {
  stripe: {
    verify: (c, rawBody, nowMs) =>
      verifyStripe(c.req.header("stripe-signature"), rawBody, secretsOf(c.env.STRIPE_WEBHOOK_SECRET), nowMs),
  },
  paddle: {
    verify: (c, rawBody, nowMs) =>
      verifyPaddle(c.req.header("paddle-signature"), rawBody, secretsOf(c.env.PADDLE_WEBHOOK_SECRET), nowMs),
  },
  chargebee: {
    verify: (c) =>
      verifyChargebee(
        c.req.header("authorization"),
        secretsOf(c.env.CHARGEBEE_WEBHOOK_USERNAME),
        secretsOf(c.env.CHARGEBEE_WEBHOOK_PASSWORD),
      ),
  },
};

function receive(provider: Provider) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const now = wallClock();
    const handling = PROVIDER_HANDLING[provider];
    // Chargebee's credentials are in a header: refuse an unknown sender before reading its body.
    if (provider === "chargebee") await handling.verify(c, new Uint8Array(), now);
    const rawBody = await readBodyBytes(c.req.raw, REQUEST_LIMITS.maxBodyBytes);
    if (provider !== "chargebee") await handling.verify(c, rawBody, now);
    let text: string;
    let payload: unknown;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(rawBody);
      payload = JSON.parse(text);
    } catch (error) {
      throw new ApiError(400, "invalid_json", "The body is not valid JSON.", [
        { path: "", message: error instanceof Error ? error.message : "unreadable" },
      ]);
    }
    const ruleset = c.get("ruleset");
    const rules = providerRules(ruleset);
    const mapped = MAPPERS[provider](payload, rules.mapping, rules.reasons);
    const db = await deliveryDatabase(c.env, mapped);
    const result = await ingestProviderEvent(db, provider, mapped, ruleset, now, text);
    return c.json({
      received: true,
      provider_event_id: mapped.providerEventId,
      outcome: result.outcome,
      events: result.events,
      duplicates: result.duplicates,
      ...(result.details.length > 0 ? { details: result.details } : {}),
      ...(result.held !== undefined ? { held: result.held } : {}),
    });
  };
}

/** Where a delivery is written: its customer's shard, or the control database when it names none. */
async function deliveryDatabase(env: Env, mapped: Mapped): Promise<D1Database> {
  if (!isSharded(env)) return env.DB;
  const customerId = customerOf(mapped);
  return customerId === null ? controlDatabase(env) : (await customerShard(env, customerId)).db;
}

const DAY_MS = 86_400_000;
/** Days `GET /v1/admin/provider-events` covers when `from` is not given, and at most. */
const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;

async function listProviderEvents(c: Context<AppEnv>): Promise<Response> {
  const problems: ErrorDetail[] = queryParameterProblems(c.req.url, ["from", "to", "provider"]);
  const today = new Date(wallClock()).toISOString().slice(0, 10);
  const to = c.req.query("to") ?? today;
  const from =
    c.req.query("from") ??
    new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  for (const [name, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
      problems.push({ path: `?${name}`, message: "must be a date YYYY-MM-DD" });
    }
  }
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS;
  if (problems.length === 0 && (span < 0 || span >= MAX_DAYS)) {
    problems.push({
      path: "?from",
      message: `must be on or before \`to\`, at most ${MAX_DAYS} days before it`,
    });
  }
  const provider = c.req.query("provider") ?? null;
  if (provider !== null && !(PROVIDERS as readonly string[]).includes(provider)) {
    problems.push({ path: "?provider", message: `must be one of ${PROVIDERS.join(", ")}` });
  }
  if (problems.length > 0) throw validationFailed(problems);
  if (isSharded(c.env)) {
    const { values, cost } = await readEveryShard(c.env, (db) =>
      Promise.all([
        readProviderEventCounts(db, from, to, provider as Provider | null),
        countHeld(db, provider as Provider | null),
      ]),
    );
    return c.json({
      from,
      to,
      provider_events: addCounts(values.map(([counts]) => counts)),
      held: values.reduce((sum, [, held]) => sum + held, 0),
      meta: cost,
    });
  }
  const [counts, held] = await Promise.all([
    readProviderEventCounts(c.env.DB, from, to, provider as Provider | null),
    countHeld(c.env.DB, provider as Provider | null),
  ]);
  return c.json({ from, to, provider_events: counts, held });
}

/**
 * Every shard's counts as one list: a (day, provider, type, outcome) counted on several shards is one
 * row, its counts summed and its last delivery the latest; in the order one database answers.
 */
function addCounts(perShard: readonly ProviderEventCount[][]): ProviderEventCount[] {
  const rows = new Map<string, ProviderEventCount>();
  for (const row of perShard.flat()) {
    const key = JSON.stringify([row.day, row.provider, row.event_type, row.outcome]);
    const known = rows.get(key);
    if (!known) rows.set(key, { ...row });
    else {
      known.count += row.count;
      // ISO 8601 times of one format compare as text.
      if (row.last_received_at > known.last_received_at) known.last_received_at = row.last_received_at;
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      -compareText(a.day, b.day) ||
      compareText(a.provider, b.provider) ||
      compareText(a.event_type, b.event_type) ||
      compareText(a.outcome, b.outcome),
  );
}

export const providerWebhookRoutes: readonly RouteDef[] = [
  ...PROVIDERS.map(
    (provider): RouteDef => ({
      method: "POST",
      path: `/v1/webhooks/${provider}`,
      scope: "provider",
      handler: receive(provider),
      doc: providerWebhookDoc(provider),
    }),
  ),
  {
    method: "GET",
    path: "/v1/admin/provider-events",
    scope: "admin",
    handler: listProviderEvents,
    doc: providerEventsDoc,
  },
  {
    method: "GET",
    path: "/v1/admin/provider-events/held",
    scope: "admin",
    handler: listHeldDeliveries,
    doc: providerHeldDoc,
  },
  {
    method: "POST",
    path: "/v1/admin/provider-events/replay",
    scope: "admin",
    handler: replayHeldDeliveries,
    doc: providerReplayDoc,
  },
];
