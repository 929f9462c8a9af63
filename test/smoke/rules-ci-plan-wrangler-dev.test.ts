// The CI recipe's plan stage end to end: scripts/rules-ci.sh runs `rebound plan` for a changed copy
// of the rules against the built Worker under a real `wrangler dev` (standing in for production),
// prints the markdown plan, and keeps it as one pull-request comment on a loopback server that
// answers GitHub's issue-comment API: posted on the first push, updated on the next.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useDevServer } from "./dev-server";
import { rulesCi, rulesCopy } from "./rules-ci-run";

const smoke = useDevServer("rebound-smoke-rules-ci-");
const TOKEN = "ghs_loopback";
const REPOSITORY = "acme/retention-rules";
const PR = 7;

interface Comment {
  id: number;
  body: string;
}

/** GitHub's issue comments, as much of the API as the script uses, kept in memory. */
class GitHubComments {
  readonly comments: Comment[] = [{ id: 1, body: "Looks good, but what does it do to dunning?" }];
  readonly requests: string[] = [];
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer(async (request, response) => {
      const body = await readBody(request);
      const path = new URL(request.url ?? "/", "http://x");
      this.requests.push(`${request.method} ${path.pathname}`);
      const answer = (status: number, json: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(json));
      };
      if (request.headers.authorization !== `Bearer ${TOKEN}`)
        return answer(401, { message: "Bad credentials" });
      const list = `/repos/${REPOSITORY}/issues/${PR}/comments`;
      const one = new RegExp(`^/repos/${REPOSITORY}/issues/comments/(\\d+)$`).exec(path.pathname);
      if (request.method === "GET" && path.pathname === list) {
        const perPage = Number(path.searchParams.get("per_page") ?? 30);
        const page = Number(path.searchParams.get("page") ?? 1);
        return answer(200, this.comments.slice((page - 1) * perPage, page * perPage));
      }
      if (request.method === "POST" && path.pathname === list) {
        const comment = { id: this.comments.length + 1, body: JSON.parse(body).body };
        this.comments.push(comment);
        return answer(201, comment);
      }
      const existing = one && this.comments.find((comment) => comment.id === Number(one[1]));
      if (request.method === "PATCH" && existing) {
        existing.body = JSON.parse(body).body;
        return answer(200, existing);
      }
      answer(404, { message: "Not Found" });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text;
}

const github = new GitHubComments();
beforeAll(() => github.start());
afterAll(() => github.stop());

describe("scripts/rules-ci.sh plan", () => {
  it("prints the markdown plan of a cadence change and keeps it as one pull-request comment", async () => {
    const now = Date.now();
    const iso = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
    const seeded = await smoke.request("POST", "/v1/events", smoke.adminKey, {
      events: [
        {
          id: "ci-1",
          type: "subscription.started",
          customer_id: "ci-customer",
          occurred_at: iso(60),
          properties: { plan: "pro", mrr: 4900, currency: "USD" },
        },
        {
          id: "ci-2",
          type: "payment.failed",
          customer_id: "ci-customer",
          occurred_at: iso(1),
          properties: { invoice_id: "in_ci", amount: 4900, currency: "USD" },
        },
      ],
    });
    expect(seeded.status).toBe(200);
    const rules = rulesCopy("dunning.yaml", (text) =>
      text
        .replace("{ day: 3, message: dunning_day_3 }", "{ day: 2, message: dunning_day_3 }")
        .replace("{ day: 7, message: dunning_day_7 }", "{ day: 5, message: dunning_day_7 }"),
    );
    const env = {
      REBOUND_URL: smoke.url,
      REBOUND_ADMIN_KEY: smoke.adminKey,
      GITHUB_TOKEN: TOKEN,
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: REPOSITORY,
      PR_NUMBER: String(PR),
    };

    const first = await rulesCi(["plan", rules], env);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^\*\*Rebound plan:\*\*/);
    expect(first.stdout).toContain("1 customer");
    expect(first.stdout).toContain("standard");
    expect(first.stderr).toContain(`posted the plan on pull request #${PR}`);
    const posted = github.comments.filter((comment) => comment.body.startsWith("<!-- rebound-plan -->"));
    expect(posted).toHaveLength(1);
    expect(posted[0]!.body).toBe(`<!-- rebound-plan -->\n${first.stdout.trimEnd()}`);

    const second = await rulesCi(["plan", rules], env);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain(`updated the plan comment on pull request #${PR}`);
    expect(github.comments).toHaveLength(2);
    expect(github.comments[0]!.body).toBe("Looks good, but what does it do to dunning?");
    expect(github.comments[1]!.body).toBe(`<!-- rebound-plan -->\n${second.stdout.trimEnd()}`);
    expect(github.requests.filter((request) => request.startsWith("POST"))).toHaveLength(1);
    expect(github.requests.filter((request) => request.startsWith("PATCH"))).toHaveLength(1);
  });

  it("prints the plan without posting it when there is no pull request", async () => {
    const before = github.requests.length;
    const planned = await rulesCi(["plan", rulesCopy()], {
      REBOUND_URL: smoke.url,
      REBOUND_ADMIN_KEY: smoke.adminKey,
      GITHUB_TOKEN: "",
      PR_NUMBER: "",
    });
    expect(planned.status, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/^\*\*Rebound plan:\*\*/);
    expect(github.requests.length).toBe(before);
  });

  it("fails, posting nothing, when production refuses the key", async () => {
    const before = github.requests.length;
    const refused = await rulesCi(["plan", rulesCopy()], {
      REBOUND_URL: smoke.url,
      REBOUND_ADMIN_KEY: "rbk_not_a_key",
      GITHUB_TOKEN: TOKEN,
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: REPOSITORY,
      PR_NUMBER: String(PR),
    });
    expect(refused.status).not.toBe(0);
    expect(github.requests.length).toBe(before);
  });
});
