// Custom attributes in `customer.updated` ingest are checked against the ones the rules declare
// (rules/settings.yaml `fields:`: seats number, company_size enum, onboarded_at timestamp), the same
// way as the attributes of a decision request: a declared attribute of the wrong type is refused at
// its path, a timestamp is taken as epoch ms or ISO 8601 with an offset and stored as epoch ms (what
// the rules read), and an attribute the rules do not declare yet is kept.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, event, ingest, issueKey, profile } from "./helpers";

let writer: string;
let reader: string;
beforeAll(async () => {
  writer = await issueKey(["events:write"]);
  reader = await issueKey(["decisions:read"]);
});

const TIME_MESSAGE =
  "must be a time: epoch milliseconds, or ISO 8601 with a UTC offset such as 2026-03-01T09:30:00Z (declared timestamp)";

function updated(customerId: string, attributes: Record<string, unknown>, id?: string) {
  return event("customer.updated", customerId, "2026-04-01T00:00:00Z", { attributes }, id);
}

async function storedEvents(customerId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE customer_id = ?")
    .bind(customerId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("customer.updated attributes", () => {
  it("refuses declared attributes of the wrong type at their paths, and stores nothing of the batch", async () => {
    const result = await call("/v1/events", {
      key: writer,
      body: {
        events: [
          event("activity", "ia-bad", "2026-04-01T00:00:00Z"),
          updated("ia-bad", { seats: "twelve", company_size: "huge", onboarded_at: "yesterday", crm: 1 }),
          updated("ia-bad", { company_size: 40, onboarded_at: "2026-01-05T09:30:00", seats: true }),
        ],
      },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("validation_failed");
    expect(result.body.error.details).toEqual([
      { path: "/events/1/properties/attributes/seats", message: "must be a number (declared number)" },
      {
        path: "/events/1/properties/attributes/company_size",
        message: "must be one of solo, small, mid, large (declared enum(solo, small, mid, large))",
      },
      { path: "/events/1/properties/attributes/onboarded_at", message: TIME_MESSAGE },
      {
        path: "/events/2/properties/attributes/company_size",
        message: "must be one of solo, small, mid, large (declared enum(solo, small, mid, large))",
      },
      { path: "/events/2/properties/attributes/onboarded_at", message: TIME_MESSAGE },
      { path: "/events/2/properties/attributes/seats", message: "must be a number (declared number)" },
    ]);
    expect(await storedEvents("ia-bad")).toBe(0);
  });

  it("names the path of a single event without the batch prefix", async () => {
    const result = await call("/v1/events", { key: writer, body: updated("ia-one", { seats: "12" }) });
    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([
      { path: "/properties/attributes/seats", message: "must be a number (declared number)" },
    ]);
  });

  it("points a malformed attribute name at the name and says what a name may be", async () => {
    const result = await call("/v1/events", {
      key: writer,
      body: { events: [updated("ia-name", { "bad-name": 1 })] },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([
      {
        path: "/events/0/properties/attributes/bad-name",
        message: "is not a valid attribute name: a letter or _, then up to 63 letters, digits or _",
      },
    ]);
  });

  it("keeps attributes the rules do not declare (yet), as sent", async () => {
    await ingest(writer, [updated("ia-crm", { crm_tier: "gold", crm_score: 7.5, crm_churned: false })]);
    expect((await profile(reader, "ia-crm")).attributes).toEqual({
      crm_tier: "gold",
      crm_score: 7.5,
      crm_churned: false,
    });
  });

  it("stores a timestamp sent as ISO 8601 as epoch milliseconds, and one sent as epoch ms as is", async () => {
    await ingest(writer, [
      updated("ia-iso", { onboarded_at: "2026-01-05T09:30:00+01:00", seats: 12, company_size: "mid" }),
      updated("ia-ms", { onboarded_at: Date.parse("2026-01-05T08:30:00Z") }),
    ]);
    expect((await profile(reader, "ia-iso")).attributes).toEqual({
      onboarded_at: Date.parse("2026-01-05T08:30:00Z"),
      seats: 12,
      company_size: "mid",
    });
    expect((await profile(reader, "ia-ms")).attributes).toEqual({
      onboarded_at: Date.parse("2026-01-05T08:30:00Z"),
    });
  });

  it("lets null remove a declared attribute", async () => {
    await ingest(writer, [updated("ia-null", { seats: 4, onboarded_at: "2026-01-05T00:00:00Z" })]);
    await ingest(writer, [
      event("customer.updated", "ia-null", "2026-04-02T00:00:00Z", { attributes: { seats: null } }),
    ]);
    expect((await profile(reader, "ia-null")).attributes).toEqual({
      onboarded_at: Date.parse("2026-01-05T00:00:00Z"),
    });
  });
});

describe("resending a customer.updated with a timestamp attribute", () => {
  it("is a duplicate when byte-identical, in a later request and within one", async () => {
    const sent = updated("ia-resend", { onboarded_at: "2026-01-05T09:30:00+01:00" }, "ia-resend-1");
    const first = await ingest(writer, [sent]);
    expect(first).toMatchObject({ accepted: 1, duplicates: 0 });

    const again = await ingest(writer, [sent]);
    expect(again).toMatchObject({
      accepted: 0,
      duplicates: 1,
      duplicate_ids: ["ia-resend-1"],
      conflicting_ids: [],
    });
    const twice = await ingest(writer, [sent, sent]);
    expect(twice).toMatchObject({ accepted: 0, duplicates: 2, conflicting_ids: [] });
    expect(await storedEvents("ia-resend")).toBe(1);
  });

  it("is a duplicate when it names the same instant another way, a conflict when another instant", async () => {
    await ingest(writer, [updated("ia-same", { onboarded_at: "2026-01-05T09:30:00+01:00" }, "ia-same-1")]);
    const sameInstant = await ingest(writer, [
      updated("ia-same", { onboarded_at: "2026-01-05T08:30:00Z" }, "ia-same-1"),
    ]);
    expect(sameInstant).toMatchObject({ duplicates: 1, conflicting_ids: [] });
    const otherInstant = await ingest(writer, [
      updated("ia-same", { onboarded_at: "2026-01-06T08:30:00Z" }, "ia-same-1"),
    ]);
    expect(otherInstant).toMatchObject({ duplicates: 1, conflicting_ids: ["ia-same-1"] });
    // The stored event wins.
    expect((await profile(reader, "ia-same")).attributes).toEqual({
      onboarded_at: Date.parse("2026-01-05T08:30:00Z"),
    });
  });
});
