// Smoke test: the demo simulation `npm start` runs, against the built Worker under a real
// `wrangler dev`, over a short window: 40 days of a small company with heavy churn and many failed
// payments, so that every programme shows up within it. What it checks is what a user of the demo
// would see through the API: customers gone for several reasons, dunning cases recovered and
// final, a campaign run with sent and held-out customers, cancel-flow offers taken and refused, an
// interrupted run that resumes, and a second run that changes nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_MARKER_CUSTOMER, type SimulationOptions, simulateDemo } from "../../worker/tools/demo-simulate";
import { type Json, useDevServer } from "./dev-server";

const DAY = 86_400_000;
const smoke = useDevServer("rebound-smoke-demo-");
const progressDir = mkdtempSync(join(tmpdir(), "rebound-demo-progress-"));
afterAll(() => rmSync(progressDir, { recursive: true, force: true }));

function options(extra: Partial<SimulationOptions> = {}): SimulationOptions {
  const today = new Date();
  return {
    url: smoke.url,
    adminKey: smoke.adminKey,
    anchor: Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()),
    seed: 7,
    days: 40,
    initialCustomers: 120,
    signupsPerMonth: 30,
    historyDays: 120,
    monthlyChurn: 0.2,
    paymentFailure: 0.4,
    progressFile: join(progressDir, "demo-simulation.json"),
    ...extra,
  };
}

async function get(path: string): Promise<Json> {
  const answer = await smoke.request("GET", path, smoke.adminKey);
  expect(answer.status, path).toBe(200);
  return answer.body;
}

/** What a user of the demo can count through the API. */
async function visibleCounts(customers: number) {
  const statuses: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  for (let n = 1; n <= customers; n++) {
    const { customer } = await get(`/v1/customers/demo-${String(n).padStart(4, "0")}`);
    statuses[customer.status ?? "none"] = (statuses[customer.status ?? "none"] ?? 0) + 1;
    if (customer.status === "canceled")
      reasons[customer.churn_reason] = (reasons[customer.churn_reason] ?? 0) + 1;
  }
  const dunning: Record<string, number> = {};
  for (const status of ["open", "recovered", "final", "canceled"]) {
    dunning[status] = (await get(`/v1/admin/dunning-cases?status=${status}&limit=200`)).cases.length;
  }
  const runs = (await get("/v1/admin/campaign-runs?campaign=spring_winback&limit=200")).runs as Json[];
  let sends = 0;
  for (let cursor = ""; ; ) {
    const page = await get(`/v1/sends?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    sends += page.sends.length;
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return { statuses, reasons, dunning, runs, sends };
}

describe("the demo simulation under wrangler dev", () => {
  it("lives through 40 days through the API, resumes after an interruption, and loads only once", async () => {
    // Interrupted after the first progress line past day 10 (Ctrl-C in npm start), then started
    // again: it resumes on the next day.
    const interrupt = new AbortController();
    const lines: string[] = [];
    let stoppedAfter = 0;
    const stopped = await simulateDemo(
      options({
        signal: interrupt.signal,
        log: (line) => {
          lines.push(line);
          const day = Number(/^demo: day (\d+)\//.exec(line)?.[1] ?? 0);
          if (day >= 10 && !interrupt.signal.aborted) {
            stoppedAfter = day;
            interrupt.abort();
          }
        },
      }),
    );
    expect(stoppedAfter).toBeGreaterThan(0);
    expect(stopped).toEqual({ outcome: "stopped", day: stoppedAfter });
    expect((await smoke.request("GET", `/v1/customers/${DEMO_MARKER_CUSTOMER}`, smoke.adminKey)).status).toBe(
      404,
    );

    const finished = await simulateDemo(options({ log: (line) => lines.push(line) }));
    if (finished.outcome !== "simulated") throw new Error(`expected a simulation, got ${finished.outcome}`);
    expect(finished.resumedAtDay).toBe(stoppedAfter);
    expect(lines).toContain(`demo: resuming the simulation at day ${stoppedAfter + 1} of 40`);
    // A few progress lines, not one a day.
    expect(lines.length).toBeLessThanOrEqual(10);
    const summary = finished.summary;
    expect(summary.rebound.ticks).toBeGreaterThanOrEqual(40);

    const seen = await visibleCounts(summary.customers);
    // Customers left for several reasons, one of them the dunning cadence's final cancellation.
    expect(Object.keys(seen.reasons).length).toBeGreaterThanOrEqual(4);
    expect(seen.reasons.payment_failed).toBeGreaterThan(0);
    expect(seen.statuses.active).toBeGreaterThan(0);
    // Failed payments: some paid after a reminder, some reached the end of the cadence.
    expect(seen.dunning.recovered).toBeGreaterThan(0);
    expect(seen.dunning.final).toBeGreaterThan(0);
    // Only the final action cancels with payment_failed (some of them have come back since).
    expect(seen.dunning.final).toBeGreaterThanOrEqual(seen.reasons.payment_failed ?? 0);
    // The weekly campaign ran with customers sent to and customers held out.
    const done = seen.runs.filter((run: Json) => run.status === "done");
    expect(done.length).toBeGreaterThanOrEqual(4);
    expect(done.some((run: Json) => run.stats.sent > 0)).toBe(true);
    expect(done.some((run: Json) => run.stats.holdout > 0)).toBe(true);
    // The cancel flow's offers were both taken and refused (each answer a 200 from the offers API).
    expect(summary.world.offersAccepted).toBeGreaterThan(0);
    expect(summary.world.offersDeclined).toBeGreaterThan(0);
    expect(summary.world.cancelFlows).toBeGreaterThan(summary.world.offersShown);
    // People came back after a win-back message or campaign, read back from GET /v1/sends.
    expect(summary.world.returnedAfterMessage).toBeGreaterThan(0);
    expect(seen.sends).toBe(Object.values(summary.rebound.sends).reduce((sum, n) => sum + n, 0));

    // Started again (npm start a second time): nothing is sent, nothing changes.
    const again = await simulateDemo(options({ anchor: options().anchor + DAY }));
    expect(again).toEqual({ outcome: "already_loaded", summary });
    expect(await visibleCounts(summary.customers)).toEqual(seen);
  }, 600_000);
});
