// A tick dated after the wall clock writes real effects early (final dunning actions cancel
// customers, sends are stored for real), so only a deployment that allows it runs one: `npm start`
// does, production does not by default and answers with a located error, writing nothing.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker";
import { issueKey } from "./helpers";

const DAY = 86_400_000;

/** Calls the Worker with the tick setting as a deployment would have it (undefined: production). */
async function tick(key: string, at: string, allow: string | undefined) {
  const ctx = createExecutionContext();
  const { REBOUND_ALLOW_FUTURE_TICKS: _, ...production } = env;
  const response = await worker.fetch(
    new Request("http://rebound.test/v1/admin/tick", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ at }),
    }),
    allow === undefined ? production : { ...production, REBOUND_ALLOW_FUTURE_TICKS: allow },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
  return { status: response.status, body: (await response.json()) as any };
}

async function counts() {
  return env.DB.prepare(
    "SELECT (SELECT count(*) FROM tick_state) AS marks, (SELECT count(*) FROM campaign_runs) AS runs, (SELECT count(*) FROM sends) AS sends",
  ).first();
}

describe("ticks later than the wall clock", () => {
  it("are refused by default, at /at, with nothing written", async () => {
    const admin = await issueKey(["admin"]);
    const before = await counts();
    const at = new Date(Date.now() + 30 * DAY).toISOString();
    const { status, body } = await tick(admin, at, undefined);
    expect(status).toBe(400);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details).toEqual([
      { path: "/at", message: expect.stringContaining("is after the wall clock") },
    ]);
    expect(body.error.details[0].message).toContain("REBOUND_ALLOW_FUTURE_TICKS=true");
    expect(await counts()).toEqual(before);
  });

  it("run now, in the past and a few minutes ahead (a clock running early) without the setting", async () => {
    const admin = await issueKey(["admin"]);
    for (const at of [Date.now() - DAY, Date.now() + 60_000]) {
      const { status } = await tick(admin, new Date(at).toISOString(), undefined);
      expect(status).toBe(200);
    }
  });

  it("run where the deployment allows them (REBOUND_ALLOW_FUTURE_TICKS=true, as npm start sets)", async () => {
    const admin = await issueKey(["admin"]);
    const at = new Date(Date.now() + 30 * DAY).toISOString();
    expect((await tick(admin, at, "false")).status).toBe(400);
    const { status, body } = await tick(admin, at, "true");
    expect(status).toBe(200);
    expect(body.tick.at).toBe(at);
  });
});
