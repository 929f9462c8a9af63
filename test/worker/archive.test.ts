// The archiver moves raw events older than the retention to R2 (real R2 and D1 under miniflare),
// bounded per run, resumable after a crash between the object write and the delete, losing and
// duplicating nothing, while profiles and the daily history stay exactly as they were.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { archiveEvents, partKey } from "../../worker/archive/archive-events";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { call, ingest, issueKey, profile } from "./helpers";

const DAY = 86_400_000;
const JAN_1 = Date.UTC(2026, 0, 1);
const NOW = Date.UTC(2026, 0, 20, 12);
const RETENTION = 7 * DAY; // days before 2026-01-13 are archived

let writer: string;
let reader: string;

interface Sent {
  id: string;
  type: string;
  customer_id: string;
  occurred_at: string;
  properties: Record<string, unknown>;
}

function history(): Sent[] {
  const events: Sent[] = [];
  for (const customer of ["arc-a", "arc-b", "arc-\u{1F600}"]) {
    events.push({
      id: `${customer}-start`,
      type: "subscription.started",
      customer_id: customer,
      occurred_at: new Date(JAN_1 + 3_600_000).toISOString(),
      properties: { plan: "pro", mrr: 4900, currency: "USD" },
    });
    for (let day = 0; day < 16; day++) {
      for (let n = 0; n < 3; n++) {
        events.push({
          id: `${customer}-act-${day}-${n}`,
          type: "activity",
          customer_id: customer,
          occurred_at: new Date(JAN_1 + day * DAY + n * 3_600_000).toISOString(),
          properties: n === 0 ? { feature: "export" } : {},
        });
      }
      if (day % 4 === 1) {
        events.push({
          id: `${customer}-order-${day}`,
          type: "order.completed",
          customer_id: customer,
          occurred_at: new Date(JAN_1 + day * DAY + 5 * 3_600_000).toISOString(),
          properties: { amount: 1000 + day, currency: "USD" },
        });
      }
    }
  }
  return events;
}

const snapshot = async (table: "customers" | "event_days") =>
  (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3, 4`).all()).results;

async function archivedLines(): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const listing = await env.ARCHIVE!.list({ prefix: "events/", ...(cursor ? { cursor } : {}) });
    for (const object of listing.objects) {
      const body = await (await env.ARCHIVE!.get(object.key))!.text();
      for (const line of body.split("\n").filter(Boolean)) lines.push(JSON.parse(line));
    }
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return lines;
}

describe("archiving raw events past the retention", () => {
  const sent = history();
  const old = sent.filter((event) => Date.parse(event.occurred_at) < Date.UTC(2026, 0, 13));
  let profilesBefore: unknown[];
  let daysBefore: unknown[];

  beforeAll(async () => {
    writer = await issueKey(["events:write"]);
    reader = await issueKey(["decisions:read"]);
    for (let i = 0; i < sent.length; i += 100) await ingest(writer, sent.slice(i, i + 100));
    profilesBefore = await snapshot("customers");
    daysBefore = await snapshot("event_days");
  });

  it("moves every old event to R2 exactly once, through crashes between write and delete", async () => {
    let runs = 0;
    let crashes = 0;
    for (;;) {
      runs++;
      expect(runs).toBeLessThan(200);
      // Every third run dies right after writing its object, before deleting what it wrote.
      const crash = runs % 3 === 0;
      try {
        const report = await archiveEvents(env.DB, env.ARCHIVE, {
          zones: deployedRuleset(),
          now: NOW,
          retentionMs: RETENTION,
          maxEvents: 7,
          afterPut: () => {
            if (crash) throw new Error("crash after put");
          },
        });
        expect(report.events).toBeLessThanOrEqual(7 + 4); // whole (type, customer) pairs: one may pass the budget
        if (report.events === 0 && report.day_in_progress === null) break;
      } catch (error) {
        expect(String(error)).toContain("crash after put");
        crashes++;
      }
    }
    expect(crashes).toBeGreaterThan(3);

    const lines = await archivedLines();
    const ids = lines.map((line) => line.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(old.map((event) => event.id).sort());
    // Each line is the event as sent: times in UTC ISO 8601, properties as stored.
    const byId = new Map(lines.map((line) => [line.id, line]));
    for (const event of old) {
      expect(byId.get(event.id)).toMatchObject({
        customer_id: event.customer_id,
        type: event.type,
        occurred_at: new Date(event.occurred_at).toISOString(),
        properties: event.properties,
      });
    }
    const left = await env.DB.prepare("SELECT count(*) AS n, min(occurred_at) AS first FROM events").first<{
      n: number;
      first: number;
    }>();
    expect(left?.n).toBe(sent.length - old.length);
    expect(left?.first).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 13));
    const days = await env.DB.prepare(
      "SELECT status, count(*) AS n, sum(events) AS events FROM archive_days GROUP BY status",
    ).all();
    expect(days.results).toEqual([{ status: "archived", n: 12, events: old.length }]);
    expect(await env.ARCHIVE!.head(partKey(20_454, 1))).not.toBeNull(); // 2026-01-01
  });

  it("leaves profiles and the daily history exactly as they were", async () => {
    expect(await snapshot("customers")).toEqual(profilesBefore);
    expect(await snapshot("event_days")).toEqual(daysBefore);
  });

  it("refuses a resent archived event with a located error and stores nothing", async () => {
    const resent = old.find((event) => event.type === "order.completed")!;
    const fresh = { ...resent, id: "arc-a-new", occurred_at: "2026-01-19T00:00:00Z" };
    const { status, body } = await call("/v1/events", {
      method: "POST",
      key: writer,
      body: { events: [fresh, resent] },
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details).toEqual([
      {
        path: "/events/1/occurred_at",
        message: expect.stringContaining("is before 2026-01-13T00:00:00.000Z"),
      },
    ]);
    expect(await snapshot("customers")).toEqual(profilesBefore);
    const { body: accepted } = await call("/v1/events", { method: "POST", key: writer, body: fresh });
    expect(accepted.accepted).toBe(1);
    // Four orders in the history (one archived) plus the new one, counted once each.
    expect((await profile(reader, "arc-a")).order_count).toBe(5);
  });

  it("is off without a retention and waits for a bucket", async () => {
    expect(
      (await archiveEvents(env.DB, env.ARCHIVE, { zones: deployedRuleset(), now: NOW, retentionMs: null }))
        .skipped,
    ).toBe("no_retention");
    expect(
      (await archiveEvents(env.DB, undefined, { zones: deployedRuleset(), now: NOW, retentionMs: RETENTION }))
        .skipped,
    ).toBe("no_bucket");
  });
});

describe("the tick archives with the deployed rules' retention", () => {
  it("moves events older than settings.event_retention (90 days) and reports it", async () => {
    const admin = await issueKey(["admin"]);
    const writer = await issueKey(["events:write"]);
    const tickAt = Date.UTC(2026, 8, 1, 12);
    await ingest(writer, [
      {
        id: "tick-old",
        type: "activity",
        customer_id: "tick-a",
        occurred_at: new Date(tickAt - 100 * DAY).toISOString(),
      },
      {
        id: "tick-new",
        type: "activity",
        customer_id: "tick-a",
        occurred_at: new Date(tickAt - 10 * DAY).toISOString(),
      },
    ]);
    const { status, body } = await call("/v1/admin/tick", {
      method: "POST",
      key: admin,
      body: { at: new Date(tickAt).toISOString() },
    });
    expect(status).toBe(200);
    expect(body.tick.archive).toMatchObject({ skipped: null, day_in_progress: null });
    expect(body.tick.archive.events).toBeGreaterThanOrEqual(1);
    const left = await env.DB.prepare("SELECT id FROM events WHERE customer_id = 'tick-a'").all();
    expect(left.results).toEqual([{ id: "tick-new" }]);
    const lines = await archivedLines();
    expect(lines.filter((line) => line.customer_id === "tick-a").map((line) => line.id)).toEqual([
      "tick-old",
    ]);
  });
});

describe("a profile written before the fold state existed", () => {
  it("is folded from its events before the archiver moves them, so it keeps counting them", async () => {
    const admin = await issueKey(["admin"]);
    const writer = await issueKey(["events:write"]);
    const reader = await issueKey(["decisions:read"]);
    const tickAt = Date.UTC(2026, 10, 1, 12);
    const order = (id: string, daysBefore: number) => ({
      id,
      type: "order.completed",
      customer_id: "legacy-a",
      occurred_at: new Date(tickAt - daysBefore * DAY).toISOString(),
      properties: { amount: 1000, currency: "USD" },
    });
    await ingest(writer, [order("legacy-o1", 120), order("legacy-o2", 110)]);
    // As migration 0007 leaves a row it found: columns right, no fold state.
    await env.DB.prepare("UPDATE customers SET profile_state = NULL WHERE id = 'legacy-a'").run();
    const tick = await call("/v1/admin/tick", {
      method: "POST",
      key: admin,
      body: { at: new Date(tickAt).toISOString() },
    });
    expect(tick.status).toBe(200);
    const raw = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE customer_id = 'legacy-a'",
    ).first<{ n: number }>();
    expect(raw?.n).toBe(0);
    await ingest(writer, [order("legacy-o3", 1)]);
    expect(await profile(reader, "legacy-a")).toMatchObject({ order_count: 3, order_total: 3000, ltv: 3000 });
  });
});
