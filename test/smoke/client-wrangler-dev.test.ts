// Smoke test: the typed client (client/) against the built Worker under a real `wrangler dev`, over
// real HTTP at the real clock. The app's side runs as the client's README shows it
// (client/examples/quickstart.ts): report events, ask for an offer in the cancel flow, accept it,
// and get a typed 400 `validation_failed` for bad input. Every answer the client receives, on about
// forty routes (ingest, profiles, decisions, the metrics reports and lists, the admin routes) after
// data that fills them (a tick at a past campaign run, a failed payment's dunning, cancellations),
// is then checked against the schema the served document (GET /openapi.json) gives for its method,
// path and status.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptOffer, offerToStay, reboundFor, report } from "../../client/examples/quickstart";
import { createReboundClient, type ReboundClient, type Schema } from "../../client/src/index";
import { previousOccurrence } from "../../dsl";
import { inHoldout } from "../../dsl/runtime/bucket";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { useDevServer } from "./dev-server";
import { type DocumentChecker, documentChecker } from "./openapi-check";

const DAY = 86_400_000;
const smoke = useDevServer("rebound-smoke-client-");

/** One answer the client received: the operation it called and what came back. */
interface Answer {
  method: string;
  path: string;
  status: number;
  body: unknown;
}
const answers: Answer[] = [];
/** The successful answers the last test must have checked: every kind of route an app or operator reads. */
const COVERED = [
  "GET /healthz 200",
  "POST /v1/events 200",
  "GET /v1/customers/{id} 200",
  "POST /v1/decisions 200",
  "GET /v1/customers/{id}/next-offer 200",
  "GET /v1/decisions/{decision_id} 200",
  "POST /v1/offers/{decision_id}/accept 200",
  "POST /v1/offers/{decision_id}/decline 200",
  "POST /v1/admin/api-keys 201",
  "GET /v1/admin/api-keys 200",
  "DELETE /v1/admin/api-keys/{id} 200",
  "POST /v1/admin/tick 200",
  "GET /v1/sends 200",
  "GET /v1/sends/{id} 200",
  "GET /v1/outbox 200",
  "GET /v1/admin/dunning-cases 200",
  "GET /v1/admin/campaign-runs 200",
  "GET /v1/admin/customers/{id}/export 200",
  "POST /v1/admin/customers/{id}/erase 200",
  "GET /v1/admin/floor/{id} 200",
  ...[
    "retention",
    "cancellations",
    "offers",
    "dunning",
    "winback",
    "campaigns",
    "winback/customers",
    "offers/decisions",
    "campaigns/customers",
    "cancellations/customers",
    "dunning/cases",
    "decisions/recent",
    "sends/problems",
  ].map((report) => `GET /v1/metrics/${report} 200`),
];
let checker: DocumentChecker;
let admin: ReboundClient;
let app: ReboundClient;
let reader: ReboundClient;
let appKey = "";

/** A client that records every JSON answer with the path template it asked (openapi-fetch middleware). */
function recorded(apiKey: string): ReboundClient {
  const client = createReboundClient({ baseUrl: smoke.url, apiKey });
  client.use({
    async onResponse({ request, response, schemaPath }) {
      if (!(response.headers.get("content-type") ?? "").startsWith("application/json")) return;
      const body: unknown = await response.clone().json();
      answers.push({ method: request.method, path: schemaPath, status: response.status, body });
    },
  });
  return client;
}

const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const iso = (ms: number) => new Date(ms).toISOString();

/** A customer id outside the price test's holdout, so the cancel flow shows its offer. */
function offeredId(prefix: string): string {
  for (let n = 0; ; n++) {
    const id = `${prefix}-${n}`;
    if (!inHoldout("offer_price_high_value", id, 10)) return id;
  }
}

/** On Pro at $49 for 80 days with $900 paid: worth keeping (README's cus_9). */
function valuable(id: string): Schema<"Event">[] {
  return [
    {
      id: `${id}-email`,
      type: "customer.updated",
      customer_id: id,
      occurred_at: ago(80),
      properties: { email: `${id}@example.com`, first_name: "Grace" },
    },
    {
      id: `${id}-start`,
      type: "subscription.started",
      customer_id: id,
      occurred_at: ago(80),
      properties: { plan: "pro", mrr: 4900, currency: "USD" },
    },
    {
      id: `${id}-paid`,
      type: "payment.succeeded",
      customer_id: id,
      occurred_at: ago(10),
      properties: { invoice_id: `in-${id}`, amount: 90_000, currency: "USD" },
    },
  ];
}

/** Customers canceled three weeks before the last `spring_winback` run, so that run has an audience. */
function springAudience(run: number): Schema<"Event">[] {
  const events: Schema<"Event">[] = [];
  for (let n = 1; n <= 12; n++) {
    const id = `client-spring-${n}`;
    events.push(
      {
        id: `${id}-email`,
        type: "customer.updated",
        customer_id: id,
        occurred_at: iso(run - 45 * DAY),
        properties: { email: `${id}@example.com` },
      },
      {
        id: `${id}-start`,
        type: "subscription.started",
        customer_id: id,
        occurred_at: iso(run - 45 * DAY),
        properties: { plan: "pro", mrr: 4900, currency: "USD" },
      },
      {
        id: `${id}-cancel`,
        type: "subscription.canceled",
        customer_id: id,
        occurred_at: iso(run - 21 * DAY),
        properties: { reason: "poor_service" },
      },
    );
    // Two come back within the campaign's 14 days.
    if (n <= 2)
      events.push({
        id: `${id}-back`,
        type: "subscription.reactivated",
        customer_id: id,
        occurred_at: iso(run + 3 * DAY),
        properties: { plan: "pro", mrr: 4900 },
      });
  }
  return events;
}

beforeAll(async () => {
  const served = await fetch(`${smoke.url}/openapi.json`);
  expect(served.status).toBe(200);
  checker = documentChecker(await served.json());
  admin = recorded(smoke.adminKey);
  const created = await admin.POST("/v1/admin/api-keys", {
    body: { name: "client smoke app", scopes: ["events:write", "decisions:read"] },
  });
  const metricsKey = await admin.POST("/v1/admin/api-keys", {
    body: { name: "client smoke reader", scopes: ["metrics:read"] },
  });
  if (!created.data || !metricsKey.data) throw new Error("could not create the smoke test's keys");
  appKey = created.data.api_key.key;
  app = recorded(appKey);
  reader = recorded(metricsKey.data.api_key.key);
});

describe("the typed client under wrangler dev", () => {
  it("runs the README's quickstart: events, an offer in the cancel flow, its acceptance", async () => {
    const id = offeredId("client-keeper");
    const reported = await report(reboundFor(smoke.url, appKey), valuable(id));
    expect(reported).toEqual({ accepted: 3, problems: [] });
    const offer = await offerToStay(app, id, "too_expensive");
    expect(offer).not.toBeNull();
    expect(offer?.subject).toContain("Grace");
    expect(Date.parse(offer!.expiresAt) - Date.now()).toBeGreaterThan(13 * DAY);
    const redemption = await acceptOffer(app, offer!.decisionId);
    expect(redemption).toMatchObject({ offer_key: "price_high_value", cost: { currency: "USD" } });
    expect(redemption.cost?.amount).toBeGreaterThan(0);
  });

  it("answers bad input with a typed 400 validation_failed, every problem located", async () => {
    const bad = { ...valuable("client-bad")[1]!, occurred_at: "yesterday" };
    const reported = await report(app, [valuable("client-bad")[0]!, bad]);
    expect(reported.accepted).toBe(0);
    expect(reported.problems).toEqual([{ path: "/events/1/occurred_at", message: expect.any(String) }]);
    // The same through the raw client: `error` is the route's error body, its code narrowed.
    const { data, error, response } = await app.GET("/v1/customers/{id}/next-offer", {
      params: { path: { id: "client-bad" }, query: { context: "cancel_flow", explain: "yes" as "1" } },
    });
    expect(data).toBeUndefined();
    expect(response.status).toBe(400);
    expect(error?.error.code).toBe("validation_failed");
    expect(error?.error.details).toEqual([{ path: "?explain", message: expect.any(String) }]);
    const stranger = await app.GET("/v1/customers/{id}", { params: { path: { id: "client-nobody" } } });
    expect(stranger.error?.error.code).toBe("customer_not_found");
    const unknownKey = recorded("rbk_not-a-real-key");
    const refused = await unknownKey.GET("/v1/customers/{id}", { params: { path: { id: "client-bad" } } });
    expect(refused.error?.error.code).toBe("unauthorized");
    expect(
      (await reader.POST("/v1/events", { body: { events: valuable("client-x") } })).response.status,
    ).toBe(403);
  });

  it("gives answers that match the documented schemas, on every kind of route", async () => {
    const spring = deployedRuleset().campaigns.get("spring_winback")!;
    const run = previousOccurrence(spring.schedule, spring.timezone, Date.now() - 21 * DAY)!;
    // A win-back audience, a cancellation for price a week ago, a failed payment now.
    await expectAccepted(springAudience(run));
    const leaver = "client-leaver";
    await expectAccepted([
      ...valuable(leaver),
      {
        id: `${leaver}-cancel`,
        type: "subscription.canceled",
        customer_id: leaver,
        occurred_at: ago(7.1),
        properties: { reason: "too_expensive" },
      },
    ]);
    const payer = "client-late-payer";
    await expectAccepted([
      ...valuable(payer),
      {
        id: `${payer}-failed`,
        type: "payment.failed",
        customer_id: payer,
        occurred_at: ago(0.01),
        properties: {
          invoice_id: "in-client-late",
          amount: 4900,
          currency: "USD",
          decline_code: "card_declined",
        },
      },
    ]);
    for (const at of [run, run + 5 * DAY, Date.now()]) {
      const tick = await admin.POST("/v1/admin/tick", { body: { at: iso(at) } });
      expect(tick.response.status).toBe(200);
    }
    expect(
      (await admin.POST("/v1/admin/tick", { body: { at: iso(Date.now()), dry_run: true } })).data,
    ).toBeDefined();
    await sendsSettled();

    // Decisions: the cancel flow of a second keeper, declined; a reused ask; the stored decision.
    const decliner = offeredId("client-decliner");
    await expectAccepted(valuable(decliner));
    const asked = await app.POST("/v1/decisions", {
      body: { customer_id: decliner, context: "cancel_flow", reason: "too_expensive" },
    });
    const decisionId = asked.data!.decision_id;
    await app.POST("/v1/decisions", { body: { customer_id: decliner, context: "in_app" } });
    await app.GET("/v1/customers/{id}/next-offer", {
      params: { path: { id: decliner }, query: { context: "cancel_flow", explain: "1" } },
    });
    await app.POST("/v1/offers/{decision_id}/decline", { params: { path: { decision_id: decisionId } } });
    await app.POST("/v1/offers/{decision_id}/accept", { params: { path: { decision_id: decisionId } } });
    await app.GET("/v1/decisions/{decision_id}", { params: { path: { decision_id: decisionId } } });
    await app.GET("/v1/customers/{id}", { params: { path: { id: payer } } });
    await app.GET("/v1/customers/{id}", { params: { path: { id: leaver } } });

    // Admin: keys, sends, the outbox, dunning cases, campaign runs, export.
    const listed = await admin.GET("/v1/admin/api-keys");
    const revocable = listed.data!.api_keys.find((key) => key.name === "client smoke reader");
    const sends = await admin.GET("/v1/sends", { params: { query: { limit: 50 } } });
    expect(sends.data!.sends.length).toBeGreaterThan(0);
    await admin.GET("/v1/sends/{id}", { params: { path: { id: sends.data!.sends[0]!.id } } });
    await admin.GET("/v1/sends", { params: { query: { status: "dead" } } });
    const outbox = await admin.GET("/v1/outbox", { params: { query: { customer_id: payer } } });
    expect(outbox.data!.messages.length).toBeGreaterThan(0);
    const cases = await admin.GET("/v1/admin/dunning-cases", { params: { query: { customer_id: payer } } });
    expect(cases.data!.cases).toHaveLength(1);
    const runs = await admin.GET("/v1/admin/campaign-runs", {
      params: { query: { campaign: "spring_winback" } },
    });
    expect(runs.data!.runs.length).toBeGreaterThan(0);
    await admin.GET("/v1/admin/customers/{id}/export", { params: { path: { id: leaver } } });
    await admin.GET("/v1/admin/floor/{id}", { params: { path: { id: leaver } } });
    await admin.GET("/healthz");

    // Metrics, each report over a period that holds the campaign's run, and the lists behind them.
    const from = iso(run - 30 * DAY).slice(0, 10);
    const period = { from, to: iso(Date.now()).slice(0, 10) };
    await reader.GET("/v1/metrics/retention", { params: { query: { ...period, interval: "week" } } });
    await reader.GET("/v1/metrics/cancellations", { params: { query: period } });
    for (const by of ["offer", "reason", "variant", "context"] as const)
      await reader.GET("/v1/metrics/offers", { params: { query: { ...period, by } } });
    await reader.GET("/v1/metrics/dunning", { params: { query: period } });
    await reader.GET("/v1/metrics/winback", { params: { query: period } });
    const campaigns = await reader.GET("/v1/metrics/campaigns", { params: { query: period } });
    expect(campaigns.data!.campaigns.length).toBeGreaterThan(0);
    await reader.GET("/v1/metrics/winback/customers", { params: { query: period } });
    await reader.GET("/v1/metrics/offers/decisions", { params: { query: period } });
    await reader.GET("/v1/metrics/campaigns/customers", {
      params: { query: { ...period, campaign: "spring_winback" } },
    });
    await reader.GET("/v1/metrics/cancellations/customers", { params: { query: period } });
    await reader.GET("/v1/metrics/dunning/cases", { params: { query: period } });
    await reader.GET("/v1/metrics/decisions/recent");
    await reader.GET("/v1/metrics/sends/problems");

    expect(revocable).toBeDefined();
    await admin.DELETE("/v1/admin/api-keys/{id}", { params: { path: { id: revocable!.id } } });
    await admin.POST("/v1/admin/customers/{id}/erase", { params: { path: { id: leaver } } });

    const problems = answers.flatMap((answer) =>
      checker.response(answer.method, answer.path, answer.status, answer.body),
    );
    expect(problems).toEqual([]);
    const seen = new Set(answers.map((answer) => `${answer.method} ${answer.path} ${answer.status}`));
    expect(COVERED.filter((operation) => !seen.has(operation))).toEqual([]);
    for (const error of ["400", "401", "403", "404", "409"])
      expect(
        [...seen].some((operation) => operation.endsWith(` ${error}`)),
        error,
      ).toBe(true);
  });
});

afterAll(() => {
  answers.length = 0;
});

async function expectAccepted(events: Schema<"Event">[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const reported = await report(app, events.slice(i, i + 500));
    expect(reported.problems).toEqual([]);
  }
}

/** Waits for the queue consumer to deliver or give up on every send the ticks made. */
async function sendsSettled(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pending = await admin.GET("/v1/sends", {
      params: { query: { status: "queued,sending,failed", limit: 1 } },
    });
    if (pending.data?.sends.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`sends still pending after 60 s: ${JSON.stringify(pending.data)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
