// `rebound plan` and `rebound tick` as a user runs them (node dsl/cli/bin.mjs in a working
// directory of their own) against an HTTP server on loopback that answers the Worker's admin routes
// in their wire format (dsl/plan-report.ts; worker/tick/report.ts): a stand-in for the Worker, so
// these tests pin the CLI's side (paging, merging, output, errors); the Worker's own route is tested
// against wrangler dev end to end.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRules } from "../../dsl/cli/load-rules";
import { programmeLines } from "../../dsl/cli/plan-format";
import type { PlanProgrammeCounts, PlanReport } from "../../dsl/plan-report";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "dsl/cli/bin.mjs");
const scratch = mkdtempSync(join(tmpdir(), "rebound-plan-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** `node dsl/cli/bin.mjs ...argv` in `cwd`, without the caller's REBOUND_* settings unless given. */
function rebound(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...options.env };
  if (!options.env?.REBOUND_URL) delete env.REBOUND_URL;
  if (!options.env?.REBOUND_ADMIN_KEY) delete env.REBOUND_ADMIN_KEY;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...argv], { cwd: options.cwd ?? scratch, env });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? -1, out, err }));
  });
}

interface Received {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

interface FakeWorker {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A loopback HTTP server answering each request with `answer(request)`: a status and a JSON body. */
async function fakeWorker(
  answer: (request: Received) => { status: number; body: unknown },
): Promise<FakeWorker> {
  const received: Received[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const request: Received = {
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : {},
    };
    received.push(request);
    const { status, body } = answer(request);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

/** A rules directory of its own: a copy of the shipped rules, changed by `edit`. */
function rulesCopy(name: string, edit?: (dunning: string) => string): string {
  const dir = join(scratch, name);
  cpSync(join(root, "rules"), join(dir, "rules"), { recursive: true });
  if (edit) {
    const file = join(dir, "rules/dunning.yaml");
    writeFileSync(file, edit(readFileSync(file, "utf8")));
  }
  return dir;
}

function counts(over: Partial<PlanProgrammeCounts>): PlanProgrammeCounts {
  return {
    sends: 0,
    final_actions: 0,
    cancels: 0,
    by_day: {},
    steps: {},
    customers: 0,
    examples: [],
    ...over,
  };
}

/** One page of a plan, as the Worker answers it. */
function page(over: Partial<PlanReport>): PlanReport {
  return {
    at: "2026-03-03T15:00:00.000Z",
    until: "2026-04-02T15:00:00.000Z",
    days: 30,
    base: { version: "sha256:1111111111111111aaaa", source: "deployed" },
    proposed: { version: "sha256:2222222222222222bbbb" },
    customers: 0,
    customers_with_offer_moves: 0,
    segments: [],
    offers: [],
    campaigns: [],
    programmes: [],
    cost: { rows_read: 10, queries: 2, pages: 1 },
    next_cursor: null,
    ...over,
  };
}

/**
 * Three pages: a cadence change (final actions on days 2026-03-05 and 2026-03-08, 14 in all, none
 * before), two customers entering a segment, offer moves in cancel_flow, an unchanged segment and
 * an unchanged campaign step.
 */
const PAGES: PlanReport[] = [
  page({
    customers: 4,
    customers_with_offer_moves: 1,
    segments: [
      {
        segment: "at_risk",
        before: 1,
        after: 2,
        entering: 1,
        leaving: 0,
        entering_examples: ["cus_0002"],
        leaving_examples: [],
      },
      {
        segment: "high_value",
        before: 2,
        after: 2,
        entering: 0,
        leaving: 0,
        entering_examples: [],
        leaving_examples: [],
      },
    ],
    offers: [
      {
        context: "cancel_flow",
        reason: null,
        moves: [{ from: "pause_offer", to: "discount_offer", customers: 1, examples: ["cus_0003"] }],
        unchanged: 3,
        cost_before: { USD: 0 },
        cost_after: { USD: 1250 },
        unpriced_before: 0,
        unpriced_after: 0,
        holding_offer: 0,
      },
    ],
    campaigns: [
      {
        campaign: "spring_sale",
        occurrence: "2026-03-10T09:00:00.000Z",
        step: "0",
        due_at: "2026-03-10T09:00:00.000Z",
        before: { audience: 3, sent: 3, holdout: 0, frequency_capped: 0, deferred: 0, no_offer: 0 },
        after: { audience: 3, sent: 3, holdout: 0, frequency_capped: 0, deferred: 0, no_offer: 0 },
      },
    ],
    programmes: [
      {
        programme: "dunning",
        key: "payment_failed",
        before: counts({
          sends: 4,
          by_day: { "2026-03-06": { sends: 4, final_actions: 0 } },
          steps: { "day-3": 4 },
          customers: 4,
          examples: ["cus_0001"],
        }),
        after: counts({
          sends: 4,
          final_actions: 4,
          cancels: 4,
          by_day: { "2026-03-05": { sends: 4, final_actions: 4 } },
          steps: { "day-2": 4, final: 4 },
          customers: 4,
          examples: ["cus_0001"],
        }),
      },
    ],
    next_cursor: "after:cus_0004",
  }),
  page({
    customers: 4,
    customers_with_offer_moves: 6,
    segments: [
      {
        segment: "at_risk",
        before: 0,
        after: 1,
        entering: 1,
        leaving: 0,
        entering_examples: ["cus_0005"],
        leaving_examples: [],
      },
      {
        segment: "high_value",
        before: 1,
        after: 1,
        entering: 0,
        leaving: 0,
        entering_examples: [],
        leaving_examples: [],
      },
    ],
    offers: [
      {
        context: "cancel_flow",
        reason: null,
        moves: [
          { from: "pause_offer", to: "discount_offer", customers: 2, examples: ["cus_0006", "cus_0007"] },
        ],
        unchanged: 2,
        cost_before: { USD: 0 },
        cost_after: { USD: 2500 },
        unpriced_before: 0,
        unpriced_after: 0,
        holding_offer: 1,
      },
      {
        context: "cancel_flow",
        reason: "too_expensive",
        moves: [{ from: "pause_offer", to: "price_offer", customers: 4, examples: ["cus_0005"] }],
        unchanged: 0,
        cost_before: {},
        cost_after: { USD: 8000 },
        unpriced_before: 0,
        unpriced_after: 0,
        holding_offer: 0,
      },
    ],
    programmes: [
      {
        programme: "dunning",
        key: "payment_failed",
        before: counts({}),
        after: counts({
          final_actions: 6,
          cancels: 6,
          by_day: { "2026-03-08": { sends: 0, final_actions: 6 } },
          steps: { final: 6 },
          customers: 6,
          examples: ["cus_0005"],
        }),
      },
    ],
    next_cursor: "after:cus_0008",
  }),
  page({
    customers: 2,
    segments: [
      {
        segment: "at_risk",
        before: 0,
        after: 0,
        entering: 0,
        leaving: 0,
        entering_examples: [],
        leaving_examples: [],
      },
      {
        segment: "high_value",
        before: 0,
        after: 0,
        entering: 0,
        leaving: 0,
        entering_examples: [],
        leaving_examples: [],
      },
    ],
    programmes: [
      {
        programme: "dunning",
        key: "payment_failed",
        before: counts({}),
        after: counts({
          final_actions: 4,
          cancels: 4,
          by_day: { "2026-03-08": { sends: 0, final_actions: 4 } },
          steps: { final: 4 },
          customers: 4,
          examples: ["cus_0009"],
        }),
      },
    ],
    next_cursor: null,
  }),
];

/** Answers the plan route page by page, following the cursor the CLI sends back. */
function pagedPlan(request: Received): { status: number; body: unknown } {
  if (request.path !== "/v1/admin/plan")
    return { status: 404, body: { error: { code: "not_found", message: "No route." } } };
  const index =
    request.body.cursor === undefined
      ? 0
      : PAGES.findIndex((_, i) => i > 0 && PAGES[i - 1]!.next_cursor === request.body.cursor);
  return index < 0
    ? {
        status: 400,
        body: {
          error: {
            code: "validation_failed",
            message: "bad cursor",
            details: [{ path: "/cursor", message: "is not a cursor" }],
          },
        },
      }
    : { status: 200, body: { plan: PAGES[index] } };
}

describe("rebound plan against a running Worker", () => {
  it("follows next_cursor to the last page, sends the compiled rules once per page, and prints the merged plan", async () => {
    const worker = await fakeWorker(pagedPlan);
    const cwd = rulesCopy("paging");
    try {
      const result = await rebound(
        ["plan", "--url", worker.url, "--key", "rk_admin_test", "--format", "json"],
        { cwd },
      );
      expect(result.err).toBe("");
      expect(result.code).toBe(0);
      expect(worker.received.map((r) => r.body.cursor)).toEqual([
        undefined,
        "after:cus_0004",
        "after:cus_0008",
      ]);
      const version = loadRules(join(cwd, "rules")).ruleset!.version;
      for (const request of worker.received) {
        expect(request.method).toBe("POST");
        expect(request.authorization).toBe("Bearer rk_admin_test");
        expect((request.body.ruleset as { version: string }).version).toBe(version);
        expect(request.body).not.toHaveProperty("base");
        expect(request.body.days).toBe(30);
      }
      // Without --at the first page fixes the plan's now; later pages are asked at it.
      expect(worker.received[0]!.body).not.toHaveProperty("at");
      expect(worker.received[1]!.body.at).toBe("2026-03-03T15:00:00.000Z");

      const plan = JSON.parse(result.out) as PlanReport;
      expect(plan.customers).toBe(10);
      expect(plan.next_cursor).toBeNull();
      expect(plan.cost).toEqual({ rows_read: 30, queries: 6, pages: 3 });
      expect(plan.segments[0]).toMatchObject({ segment: "at_risk", before: 1, after: 3, entering: 2 });
      expect(plan.offers[0]!.moves).toEqual([
        {
          from: "pause_offer",
          to: "discount_offer",
          customers: 3,
          examples: ["cus_0003", "cus_0006", "cus_0007"],
        },
      ]);
      expect(plan.offers[0]!.cost_after).toEqual({ USD: 3750 });
      expect(plan.programmes[0]!.after).toMatchObject({
        final_actions: 14,
        cancels: 14,
        steps: { "day-2": 4, final: 14 },
      });
    } finally {
      await worker.close();
    }
  });

  it("tells a person what changes first: final actions with their days, segment moves, offer moves with cost", async () => {
    const worker = await fakeWorker(pagedPlan);
    try {
      const result = await rebound(["plan", "--url", worker.url, "--key", "k", "--days", "30"], {
        cwd: rulesCopy("human"),
      });
      expect(result.code).toBe(0);
      const out = result.out;
      expect(out).toContain(
        "dunning payment_failed: final actions 14 within 30 days, were 0 (days 2026-03-05: 4, 2026-03-08: 10)",
      );
      expect(out).toMatch(/at_risk\s+1\s+3\s+\+2\s+0\s+entering cus_0002, cus_0005/);
      expect(out).toMatch(/pause_offer\s+discount_offer\s+3\s+cus_0003, cus_0006, cus_0007/);
      expect(out).toMatch(/USD\s+\$0\s+\$37\.50/);
      expect(out).toContain(
        "cancel_flow (no reason): 3 customers move, 5 unchanged (1 of all hold a live offer, which they keep seeing until it expires)",
      );
      expect(out).toContain("cancel_flow (reason: too_expensive): 4 customers move, 0 unchanged");
      expect(out).toMatch(/USD\s+\$0\s+\$80/);
      expect(out).toContain("Unchanged: 1 segment, 0 offer contexts, 1 campaign step, 0 programmes");
      expect(out).toContain("Cost: 30 rows read, 6 queries, 3 pages");
      // The unchanged segment and campaign are counted, not listed.
      expect(out).not.toContain("high_value");
      expect(out).not.toContain("spring_sale");
      expect(out.indexOf("Segments")).toBeLessThan(out.indexOf("Unchanged:"));
    } finally {
      await worker.close();
    }
  });

  it("writes a pull-request comment: a summary line, headings, GitHub tables, unchanged rows folded", async () => {
    const worker = await fakeWorker(pagedPlan);
    try {
      const result = await rebound(["plan", "--format", "markdown", "--url", worker.url, "--key", "k"], {
        cwd: rulesCopy("markdown"),
      });
      expect(result.code).toBe(0);
      const lines = result.out.split("\n");
      expect(lines[0]).toMatch(/^\*\*Rebound plan:\*\* /);
      expect(lines[0]).toContain("1 segment changes (2 entering, 0 leaving)");
      expect(lines[0]).toContain("7 customers get another offer (cancel_flow)");
      expect(lines).toContain(
        "| `cancel_flow (reason: too_expensive)` | pause_offer | price_offer | 4 | cus_0005 |",
      );
      expect(lines[0]).toContain("dunning payment_failed: final actions 14 within 30 days, were 0");
      for (const heading of [
        "#### Segments",
        "#### Offers (customers asking now)",
        "#### Programmes (within 30 days; old → new)",
      ]) {
        expect(lines).toContain(heading);
      }
      const headerAt = lines.indexOf("| Segment | Before | After | Entering | Leaving | Examples |");
      expect(headerAt).toBeGreaterThan(0);
      expect(lines[headerAt + 1]).toBe("| --- | ---: | ---: | ---: | ---: | --- |");
      expect(lines[headerAt + 2]).toBe("| `at_risk` | 1 | 3 | 2 | 0 | entering cus_0002, cus_0005 |");
      const programme = lines.find((l) => l.startsWith("| dunning `payment_failed` |"))!;
      expect(programme).toContain("| 0 → 14 |");
      const details = lines.findIndex((l) => l.startsWith("<details><summary>Unchanged: 1 segment"));
      expect(details).toBeGreaterThan(headerAt);
      expect(lines.slice(details).some((l) => l.startsWith("| `high_value` | 3 | 3 |"))).toBe(true);
      expect(lines.slice(details).some((l) => l.startsWith("| `spring_sale` |"))).toBe(true);
      expect(lines).toContain("</details>");
      expect(result.out).toContain("<sub>Cost: 30 rows read, 6 queries, 3 pages</sub>");
    } finally {
      await worker.close();
    }
  });

  it("reads the admin key npm start wrote into .dev.vars", async () => {
    const worker = await fakeWorker(pagedPlan);
    const cwd = rulesCopy("devvars");
    writeFileSync(join(cwd, ".dev.vars"), 'OTHER=1\nREBOUND_ADMIN_KEY="rk_from_dev_vars"\n');
    try {
      const result = await rebound(["plan", "--format", "json"], { cwd, env: { REBOUND_URL: worker.url } });
      expect(result.code).toBe(0);
      expect(worker.received[0]!.authorization).toBe("Bearer rk_from_dev_vars");
    } finally {
      await worker.close();
    }
  });

  it("says which key the Worker refused (401), and exits 2", async () => {
    const worker = await fakeWorker(() => ({
      status: 401,
      body: { error: { code: "unauthorized", message: "Unknown or revoked API key.", details: [] } },
    }));
    try {
      const result = await rebound(["plan", "--url", worker.url], {
        cwd: rulesCopy("unauthorized"),
        env: { REBOUND_ADMIN_KEY: "rk_wrong" },
      });
      expect(result.code).toBe(2);
      expect(result.out).toBe("");
      expect(result.err).toContain("refused the admin key from $REBOUND_ADMIN_KEY");
      expect(result.err).toContain("401 unauthorized: Unknown or revoked API key.");
      expect(result.err).toContain("--key");
      expect(worker.received).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it("shows the API's located details when the Worker refuses the request (400)", async () => {
    const worker = await fakeWorker(() => ({
      status: 400,
      body: {
        error: {
          code: "validation_failed",
          message: "The request body is invalid (1 problem).",
          details: [{ path: "/ruleset/version", message: "is not a ruleset this Worker can run" }],
        },
      },
    }));
    try {
      const result = await rebound(["plan", "--url", worker.url, "--key", "k"], {
        cwd: rulesCopy("invalid"),
      });
      expect(result.code).toBe(2);
      expect(result.err).toContain("400 validation_failed: The request body is invalid (1 problem).");
      expect(result.err).toContain("/ruleset/version: is not a ruleset this Worker can run");
    } finally {
      await worker.close();
    }
  });

  it("says to start the Worker when nothing answers at the URL, and exits 2", async () => {
    const closed = await fakeWorker(() => ({ status: 500, body: {} }));
    await closed.close();
    const result = await rebound(["plan", "--url", closed.url, "--key", "k"], {
      cwd: rulesCopy("unreachable"),
    });
    expect(result.code).toBe(2);
    expect(result.err).toContain(`cannot reach the Worker at ${closed.url}`);
    expect(result.err).toContain("npm start");
    expect(result.err).toContain("--url");
  });

  it("prints a rule error located in the working tree and exits 1 without calling the Worker", async () => {
    const worker = await fakeWorker(pagedPlan);
    const cwd = rulesCopy("rule-error", (text) =>
      text.replace("message: dunning_closed", "message: dunning_closd"),
    );
    try {
      const result = await rebound(["plan", "--url", worker.url, "--key", "k"], { cwd });
      expect(result.code).toBe(1);
      const line =
        readFileSync(join(cwd, "rules/dunning.yaml"), "utf8")
          .split("\n")
          .findIndex((l) => l.includes("dunning_closd")) + 1;
      expect(result.err).toMatch(new RegExp(`rules/dunning\\.yaml:${line}:\\d+ error\\[\\w+\\]`));
      expect(result.err).toContain("dunning_closd");
      expect(worker.received).toHaveLength(0);
    } finally {
      await worker.close();
    }
  });

  it("with --base <git ref>, compiles the rules at that ref and sends them as the base", async () => {
    const worker = await fakeWorker(pagedPlan);
    const cwd = rulesCopy("git-base");
    const original = loadRules(join(root, "rules")).ruleset!.version;
    const git = async (...argv: string[]) => {
      const result = await new Promise<Outcome>((done) => {
        const child = spawn("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...argv], {
          cwd,
        });
        let err = "";
        child.stderr.on("data", (chunk) => {
          err += chunk;
        });
        child.on("close", (code) => done({ code: code ?? -1, out: "", err }));
      });
      expect(result.code, result.err).toBe(0);
    };
    await git("init", "-q");
    await git("add", "rules");
    await git("commit", "-q", "-m", "rules as deployed");
    // The working tree shortens the cadence: the final action moves from day 30 to day 29.
    const file = join(cwd, "rules/dunning.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("day: 30", "day: 29"));
    try {
      const result = await rebound(
        [
          "plan",
          "--base",
          "HEAD",
          "--days",
          "45",
          "--at",
          "2026-03-03T15:00:00Z",
          "--url",
          worker.url,
          "--key",
          "k",
          "--format",
          "markdown",
        ],
        { cwd },
      );
      expect(result.err).toBe("");
      expect(result.code).toBe(0);
      const body = worker.received[0]!.body;
      expect((body.base as { version: string }).version).toBe(original);
      expect((body.ruleset as { version: string }).version).not.toBe(original);
      expect(body.days).toBe(45);
      expect(body.at).toBe("2026-03-03T15:00:00.000Z");
      expect(result.out).toContain("against HEAD:rules");

      // From a subdirectory, `../rules` is still inside the repository.
      mkdirSync(join(cwd, "sub"), { recursive: true });
      const fromSub = await rebound(
        ["plan", "../rules", "--base", "HEAD", "--url", worker.url, "--key", "k", "--format", "json"],
        { cwd: join(cwd, "sub") },
      );
      expect(fromSub.err).toBe("");
      expect(fromSub.code).toBe(0);
      expect((worker.received.at(-1)!.body.base as { version: string }).version).toBe(original);

      const unknown = await rebound(["plan", "--base", "no-such-branch", "--url", worker.url, "--key", "k"], {
        cwd,
      });
      expect(unknown.code).toBe(2);
      expect(unknown.err).toContain("--base no-such-branch: no such commit, branch or tag");
    } finally {
      await worker.close();
    }
  });

  it("says so when the Worker already runs the rules being planned (npm start reloads them on save)", async () => {
    const version = loadRules(join(root, "rules")).ruleset!.version;
    const same = (request: Received) => {
      const answer = pagedPlan(request);
      const plan = (answer.body as { plan?: PlanReport }).plan;
      return plan
        ? {
            status: 200,
            body: { plan: { ...plan, base: { version, source: "deployed" }, proposed: { version } } },
          }
        : answer;
    };
    const worker = await fakeWorker(same);
    try {
      const result = await rebound(["plan", join(root, "rules"), "--url", worker.url, "--key", "k"]);
      expect(result.code).toBe(0);
      expect(result.err).toContain("the Worker already runs these rules");
      expect(result.err).toContain("--base HEAD");
    } finally {
      await worker.close();
    }
  });

  it("refuses a horizon the route would refuse before compiling anything", async () => {
    const result = await rebound(["plan", "--days", "91", "--key", "k"], { cwd: rulesCopy("days") });
    expect(result.code).toBe(2);
    expect(result.err).toContain("--days is a whole number from 1 to 90, not 91");
  });
});

describe("rebound tick against a running Worker", () => {
  const report = {
    at: "2026-03-05T09:00:00.000Z",
    campaigns: [
      {
        campaign: "spring_sale",
        occurrence: "2026-03-05T09:00:00.000Z",
        step: "0",
        status: "done",
        audience: 3,
        sent: 2,
        holdout: 1,
        frequency_capped: 0,
        deferred: 0,
        no_offer: 0,
      },
    ],
    dunning: {
      opened: 1,
      recovered: 0,
      canceled: 1,
      final_actions: 1,
      sent: 1,
      steps: { "standard/day-3": 1 },
      rows_read: 4,
    },
    lifecycle: { sent: 0, steps: {}, deferred: 0, no_offer: 0, rows_read: 2, window: null, truncated: false },
    republished: 0,
    queries: 9,
    rows_read: 20,
    errors: [],
    clean: true,
  };

  it("with --dry-run asks for a dry run and shows each message and each cancellation", async () => {
    const worker = await fakeWorker(() => ({
      status: 200,
      body: {
        tick: report,
        dry_run: true,
        effects: {
          sends: [
            {
              programme_kind: "dunning",
              programme_key: "standard",
              occurrence: "in_1",
              step: "day-3",
              customer_id: "cus_0042",
              channel: "email",
              message_key: "dunning_day_3",
              send_at: "2026-03-05T09:00:00.000Z",
              offer_key: null,
              subject: "Your card was declined",
              body: "Hi Ada,\n\nYour card ending in 4242 was declined.\nUpdate it here: https://x\nline 5\nline 6",
            },
          ],
          decisions: [],
          dunning: {
            opened: [],
            closed: [],
            cancellations: [{ customer_id: "cus_0007", invoice_id: "in_9", cadence: "standard" }],
          },
          exclusions: [],
          republish: 0,
        },
        truncated: { sends: false },
      },
    }));
    try {
      const result = await rebound([
        "tick",
        "--dry-run",
        "--at",
        "2026-03-05T09:00:00Z",
        "--url",
        worker.url,
        "--key",
        "k",
      ]);
      expect(result.err).toBe("");
      expect(result.code).toBe(0);
      expect(worker.received[0]!.path).toBe("/v1/admin/tick");
      expect(worker.received[0]!.body).toEqual({ at: "2026-03-05T09:00:00.000Z", dry_run: true });
      expect(result.out).toContain("Dry run at 2026-03-05T09:00:00.000Z (nothing written)");
      expect(result.out).toContain(
        "to cus_0042 by email at 2026-03-05T09:00:00.000Z: dunning_day_3 (dunning standard in_1 day-3)",
      );
      expect(result.out).toContain("Subject: Your card was declined");
      expect(result.out).toContain("Your card ending in 4242 was declined.");
      expect(result.out).not.toContain("line 6");
      expect(result.out).toContain("Cancellations (1)");
      expect(result.out).toContain("customer_id=cus_0007 invoice_id=in_9 cadence=standard");
    } finally {
      await worker.close();
    }
  });

  it("without --dry-run sends no dry_run field and prints the tick's counts", async () => {
    const worker = await fakeWorker(() => ({ status: 200, body: { tick: report } }));
    try {
      const result = await rebound(["tick", "--url", worker.url, "--key", "k"]);
      expect(result.code).toBe(0);
      expect(worker.received[0]!.body).toEqual({});
      expect(result.out).toContain("spring_sale 0 (2026-03-05T09:00:00.000Z): done");
      expect(result.out).toContain("audience 3, sent 2, holdout 1");
      expect(result.out).toContain(
        "Dunning: opened 1, recovered 0, closed (customer canceled) 1, final actions 1, sent 1",
      );
    } finally {
      await worker.close();
    }
  });

  it("refuses to pass off a real tick as a dry run when the Worker does not know dry runs", async () => {
    const worker = await fakeWorker(() => ({ status: 200, body: { tick: report } }));
    try {
      const result = await rebound(["tick", "--dry-run", "--url", worker.url, "--key", "k"]);
      expect(result.code).toBe(2);
      expect(result.err).toContain("does not know dry runs");
    } finally {
      await worker.close();
    }
  });
});

describe("a plan that strands open dunning cases", () => {
  it("warns first, in the terminal and in the pull-request comment", async () => {
    const stranding = (request: Received) => {
      const answer = pagedPlan(request);
      const plan = (answer.body as { plan?: PlanReport }).plan;
      return plan
        ? { status: 200, body: { plan: { ...plan, open_cases_without_cadence: { before: 0, after: 2 } } } }
        : answer;
    };
    const worker = await fakeWorker(stranding);
    try {
      const human = await rebound(["plan", join(root, "rules"), "--url", worker.url, "--key", "k"]);
      expect(human.out).toContain(
        "Warning: 6 open dunning cases belong to a cadence the proposed rules do not have",
      );
      const markdown = await rebound([
        "plan",
        join(root, "rules"),
        "--url",
        worker.url,
        "--key",
        "k",
        "--format",
        "markdown",
      ]);
      expect(markdown.out).toContain("> **Warning:** 6 open dunning cases");
    } finally {
      await worker.close();
    }
  });
});

describe("a programme's headline", () => {
  it("says when as many accounts close as before, but on other days, and what the sends did", () => {
    const line = programmeLines(
      {
        programme: "dunning",
        key: "standard",
        before: counts({
          sends: 93,
          final_actions: 2,
          by_day: { "2026-12-20": { sends: 1, final_actions: 2 } },
        }),
        after: counts({
          sends: 35,
          final_actions: 2,
          by_day: { "2026-12-04": { sends: 2, final_actions: 2 } },
        }),
      },
      30,
    )[0];
    expect(line).toBe(
      "dunning standard: final actions 2 within 30 days as before, on other days (days 2026-12-04: 2; were 2026-12-20: 2); sends 35, were 93",
    );
  });
});
