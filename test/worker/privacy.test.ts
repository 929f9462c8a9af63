// A customer's data on request: one JSON export of everything held (archived days included), and an
// erase that removes it everywhere, R2 included, after which no route returns the customer's data and
// a resent old event is refused and reported instead of bringing the customer back.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { archiveEvents } from "../../worker/archive/archive-events";
import { customerKey } from "../../worker/customer-key";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { writeEvents } from "../../worker/ingest/write-events";
import { continueErasures, eraseCustomer } from "../../worker/privacy/customer-data";
import { call, ingest, issueKey } from "./helpers";

const DAY = 86_400_000;
const JAN_1 = Date.UTC(2026, 0, 1);
const NOW = Date.UTC(2026, 0, 20, 12);
const RETENTION = 7 * DAY;

let admin: string;
let writer: string;
let reader: string;

function eventsOf(customer: string, days: number) {
  const events: Record<string, unknown>[] = [
    {
      id: `${customer}-u`,
      type: "customer.updated",
      customer_id: customer,
      occurred_at: new Date(JAN_1).toISOString(),
      properties: { email: `${customer}@example.com`, first_name: "Robin" },
    },
    {
      id: `${customer}-s`,
      type: "subscription.started",
      customer_id: customer,
      occurred_at: new Date(JAN_1 + 1000).toISOString(),
      properties: { plan: "pro", mrr: 4900, currency: "USD" },
    },
  ];
  for (let day = 0; day < days; day++) {
    events.push({
      id: `${customer}-a${day}`,
      type: "activity",
      customer_id: customer,
      occurred_at: new Date(JAN_1 + day * DAY + 3_600_000).toISOString(),
    });
  }
  return events;
}

async function archiveAll(maxEvents?: number) {
  for (let run = 0; run < 100; run++) {
    const report = await archiveEvents(env.DB, env.ARCHIVE, {
      zones: deployedRuleset(),
      now: NOW,
      retentionMs: RETENTION,
      ...(maxEvents ? { maxEvents } : {}),
    });
    if (report.events === 0 && report.day_in_progress === null) return;
  }
  throw new Error("archive did not finish");
}

async function archivedCustomers(): Promise<string[]> {
  const ids: string[] = [];
  const listing = await env.ARCHIVE!.list({ prefix: "events/" });
  for (const object of listing.objects) {
    const text = await (await env.ARCHIVE!.get(object.key))!.text();
    for (const line of text.split("\n").filter(Boolean)) ids.push(JSON.parse(line).customer_id);
  }
  return ids;
}

beforeAll(async () => {
  admin = await issueKey(["admin"]);
  writer = await issueKey(["events:write"]);
  reader = await issueKey(["decisions:read"]);
  await ingest(writer, [...eventsOf("gdpr-1", 18), ...eventsOf("keep-1", 18)]);
  const decision = await call("/v1/decisions", {
    key: reader,
    body: { customer_id: "gdpr-1", context: "cancel_flow", reason: "too_expensive" },
  });
  expect(decision.status).toBe(200);
  // A message sent to the customer earlier (the rows a send leaves: the send and the outbox copy).
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel, message_key, recipient,
         variables, status, not_before, created_at, updated_at)
       VALUES ('snd_gdpr', 'campaign', 'spring', '2026-01-05', 'first', 'gdpr-1', 'outbox', 'm', 'gdpr-1@example.com', '{"first_name":"Robin"}', 'sent', 0, 0, 0)`,
    ),
  ]);
  await archiveAll();
});

describe("export", () => {
  it("is one document with the profile, raw and archived events, history, decisions and sends", async () => {
    const { status, body } = await call("/v1/admin/customers/gdpr-1/export", { key: admin });
    expect(status).toBe(200);
    expect(body.customer_id).toBe("gdpr-1");
    expect(body.profile).toMatchObject({
      id: "gdpr-1",
      email: "gdpr-1@example.com",
      plan: "pro",
      attributes: {},
    });
    expect(body.profile.profile_state).toBeUndefined();
    const archived = body.events.filter((event: { archived: boolean }) => event.archived);
    const raw = body.events.filter((event: { archived: boolean }) => !event.archived);
    // Days before 2026-01-13 are archived: the update, the start and 12 activities; 6 activities are raw.
    expect(archived).toHaveLength(14);
    expect(raw).toHaveLength(6);
    expect(archived[0]).toEqual({
      id: "gdpr-1-u",
      type: "customer.updated",
      occurred_at: "2026-01-01T00:00:00.000Z",
      received_at: expect.any(String),
      properties: { email: "gdpr-1@example.com", first_name: "Robin" },
      archived: true,
    });
    expect(body.daily_history).toContainEqual(
      expect.objectContaining({ day: "2026-01-01", type: "customer.updated", count: 1 }),
    );
    expect(body.decisions).toHaveLength(1);
    expect(body.sends.map((send: { id: string }) => send.id)).toEqual(["snd_gdpr"]);
    expect(body.erased_at).toBeNull();
  });
});

describe("erase", () => {
  it("deletes everything, the archive included, and keeps only a pseudonym", async () => {
    const { status, body } = await call("/v1/admin/customers/gdpr-1/erase", { method: "POST", key: admin });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      customer_key: await customerKey("gdpr-1"),
      status: "erased",
      archive_days_remaining: 0,
      deleted: { customers: 1, events: 6, decisions: 1, sends: 1 },
    });
    expect(body.archive_objects_rewritten).toBeGreaterThan(0);
    const ids = await archivedCustomers();
    expect(ids).not.toContain("gdpr-1");
    expect(ids.filter((id) => id === "keep-1")).toHaveLength(14);
    const leftovers = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM customers WHERE id = 'gdpr-1') + (SELECT count(*) FROM events WHERE customer_id = 'gdpr-1')
            + (SELECT count(*) FROM event_days WHERE customer_id = 'gdpr-1') + (SELECT count(*) FROM decisions WHERE customer_id = 'gdpr-1')
            + (SELECT count(*) FROM sends WHERE customer_id = 'gdpr-1') AS n`,
    ).first<{ n: number }>();
    expect(leftovers?.n).toBe(0);
    const erasure = await env.DB.prepare("SELECT * FROM erasures").all();
    expect(JSON.stringify(erasure.results)).not.toContain("gdpr-1");
  });

  it("leaves no route that returns the customer's data", async () => {
    expect((await call("/v1/customers/gdpr-1", { key: reader })).status).toBe(404);
    expect((await call("/v1/sends?customer_id=gdpr-1", { key: admin })).body.sends).toEqual([]);
    expect((await call("/v1/outbox?customer_id=gdpr-1", { key: admin })).body.messages).toEqual([]);
    const decision = await call("/v1/decisions", {
      key: reader,
      body: { customer_id: "gdpr-1", context: "cancel_flow" },
    });
    expect(decision.status).toBe(404);
    expect(decision.body.error.message).toContain("erased");
    const exported = await call("/v1/admin/customers/gdpr-1/export", { key: admin });
    expect(exported.body).toMatchObject({
      profile: null,
      events: [],
      decisions: [],
      sends: [],
      erased_at: expect.any(String),
    });
  });

  it("refuses and reports a resent old event instead of bringing the customer back", async () => {
    const resent = eventsOf("gdpr-1", 18).at(-1)!;
    const { status, body } = await call("/v1/events", {
      method: "POST",
      key: writer,
      body: { events: [resent] },
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ accepted: 0, erased: 1, erased_ids: [resent.id] });
    expect((await call("/v1/customers/gdpr-1", { key: reader })).status).toBe(404);
  });

  it("is idempotent", async () => {
    const { body } = await call("/v1/admin/customers/gdpr-1/erase", { method: "POST", key: admin });
    expect(body.status).toBe("erased");
    expect(Object.values(body.deleted).every((n) => n === 0)).toBe(true);
  });

  it("finishes in the tick a day that was still being archived when the customer was erased", async () => {
    await ingest(writer, [
      ...eventsOf("late-1", 18).map((event) => ({
        ...event,
        occurred_at: shift(event.occurred_at as string),
      })),
      ...eventsOf("late-2", 18).map((event) => ({
        ...event,
        occurred_at: shift(event.occurred_at as string),
      })),
    ]);
    // Archive part of the next day only: it stays `archiving`.
    const later = NOW + 10 * DAY;
    await archiveEvents(env.DB, env.ARCHIVE, {
      zones: deployedRuleset(),
      now: later,
      retentionMs: RETENTION,
      maxEvents: 1,
    });
    const erased = await call("/v1/admin/customers/late-1/erase", { method: "POST", key: admin });
    expect(erased.body.status).toBe("archive_pending");
    for (let run = 0; run < 100; run++) {
      const report = await archiveEvents(env.DB, env.ARCHIVE, {
        zones: deployedRuleset(),
        now: later,
        retentionMs: RETENTION,
      });
      if (report.events === 0 && report.day_in_progress === null) break;
    }
    await continueErasures(env.DB, env.ARCHIVE, later);
    expect(await archivedCustomers()).not.toContain("late-1");
    expect((await archivedCustomers()).filter((id) => id === "late-2").length).toBeGreaterThan(0);
    const erasure = await env.DB.prepare(
      "SELECT archive_days, completed_at FROM erasures WHERE customer_key = ?",
    )
      .bind(await customerKey("late-1"))
      .first();
    expect(erasure).toEqual({ archive_days: "[]", completed_at: later });
  });
});

describe("erase racing ingest", () => {
  it("never leaves a profile behind, whichever lands first", async () => {
    for (let round = 0; round < 12; round++) {
      const customer = `race-${round}`;
      // In June, well after every archived day of the tests above.
      const june = (event: Record<string, unknown>) => ({
        ...event,
        occurred_at: new Date(Date.parse(event.occurred_at as string) + 150 * DAY).toISOString(),
      });
      await ingest(writer, eventsOf(customer, 2).map(june));
      const late = eventsOf(customer, 6).slice(4).map(june);
      const [sent, erased] = await Promise.all([
        call("/v1/events", { method: "POST", key: writer, body: { events: late } }),
        call(`/v1/admin/customers/${customer}/erase`, { method: "POST", key: admin }),
      ]);
      expect(sent.status).toBe(200);
      expect(erased.status).toBe(200);
      // Either the events landed before the erase (and were erased) or after it (and were refused).
      expect(sent.body.accepted + sent.body.erased).toBe(late.length);
      expect((await call(`/v1/customers/${customer}`, { key: reader })).status).toBe(404);
      const left = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE customer_id = ?")
        .bind(customer)
        .first<{ n: number }>();
      expect(left?.n).toBe(0);
    }
  });
});

describe("an erasure landing between ingest's read and its write", () => {
  it("fails the write, which starts again and finds the customer erased", async () => {
    const customer = "race-exact";
    const event = (id: string) => ({
      id,
      customer_id: customer,
      type: "activity",
      occurred_at: Date.UTC(2026, 6, 1),
      properties: "{}",
    });
    await writeEvents(env.DB, [event("race-exact-1")], Date.UTC(2026, 6, 1), deployedRuleset());
    // The erasure commits right after ingest's first read batch, before its write batch.
    let batches = 0;
    const racing = new Proxy(env.DB, {
      get(target, name) {
        if (name !== "batch") return Reflect.get(target, name).bind(target);
        return async (statements: D1PreparedStatement[]) => {
          batches++;
          if (batches === 2)
            await eraseCustomer(env.DB, env.ARCHIVE, customer, Date.UTC(2026, 6, 2), deployedRuleset());
          return target.batch(statements);
        };
      },
    });
    const written = await writeEvents(
      racing,
      [event("race-exact-2")],
      Date.UTC(2026, 6, 2),
      deployedRuleset(),
    );
    expect(written).toMatchObject({ accepted: 0, erasedIds: ["race-exact-2"] });
    const left = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM customers WHERE id = ?1) + (SELECT count(*) FROM events WHERE customer_id = ?1) AS n",
    )
      .bind(customer)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

/** The same event, 12 days later (its days are archived by a run 10 days after NOW). */
function shift(iso: string): string {
  return new Date(Date.parse(iso) + 12 * DAY).toISOString();
}
