// Input an adversarial probe sent to POST /v1/events: properties nested thousands of levels deep,
// names that plain JavaScript objects treat specially (`__proto__`), lone UTF-16 surrogates. Each is
// either refused with a 400 pointing at the problem, storing nothing, or stored faithfully.
// Bodies are written as raw JSON text: a JavaScript object literal cannot carry an own `__proto__`,
// and JSON.stringify would not send a lone surrogate as the escape a client's bytes carry.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { REQUEST_LIMITS } from "../../worker/limits";
import { call, issueKey, profile } from "./helpers";

let writer: string;
let reader: string;
beforeAll(async () => {
  writer = await issueKey(["events:write"]);
  reader = await issueKey(["decisions:read"]);
});

const AT = "2026-03-01T10:00:00Z";

/** One event as JSON text; ids and `properties` are JSON text too, inserted as they are. */
function eventJson(
  id: string,
  type: string,
  customerId: string,
  properties: string,
  occurredAt = AT,
): string {
  return `{"id":"${id}","type":"${type}","customer_id":"${customerId}","occurred_at":"${occurredAt}","properties":${properties}}`;
}

/** `{"v": [[…[1]…]]}`: properties whose objects and arrays nest `levels` deep. */
function nestedProperties(levels: number): string {
  return `{"v":${"[".repeat(levels)}1${"]".repeat(levels)}}`;
}

async function postRaw(rawBody: string) {
  return call("/v1/events", { key: writer, rawBody });
}

async function storedEvents(customerId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE customer_id = ?")
    .bind(customerId)
    .first<{ n: number }>();
  return row?.n ?? -1;
}

async function storedCustomers(customerId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM customers WHERE id = ?")
    .bind(customerId)
    .first<{ n: number }>();
  return row?.n ?? -1;
}

async function storedProperties(id: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT properties FROM events WHERE id = ?")
    .bind(id)
    .first<{ properties: string }>();
  return row?.properties ?? null;
}

function paths(body: { error: { details: { path: string }[] } }): string[] {
  return body.error.details.map((detail) => detail.path);
}

describe("properties nested too deep", () => {
  it("refuses a custom event nested 5,000 levels deep together with the batch's other bad item, storing nothing", async () => {
    const body = `{"events":[${[
      eventJson("deep-0", "activity", "c-deep", "{}"),
      eventJson("deep-1", "order.completed", "c-deep", '{"amount":"12.00","currency":"USD"}'),
      eventJson("deep-2", "x.signup", "c-deep", '{"plan":"pro"}'),
      eventJson("deep-3", "x.probe", "c-deep", nestedProperties(5_000)),
    ].join(",")}]}`;
    const { status, body: answer } = await postRaw(body);
    expect(status).toBe(400);
    expect(answer.error.code).toBe("validation_failed");
    expect(paths(answer)).toEqual(["/events/1/properties/amount", "/events/3/properties"]);
    expect(answer.error.details[1].message).toContain(`${REQUEST_LIMITS.maxPropertiesDepth} levels`);
    expect(await storedEvents("c-deep")).toBe(0);
    expect(await storedCustomers("c-deep")).toBe(0);
  });

  it("reports an item's deep properties in the same answer as its schema problems", async () => {
    const customer = "adv-deep-and-bad-id";
    const body = `{"events":[${eventJson(" bad id", "x.deep", customer, nestedProperties(5_000))}]}`;
    const result = await postRaw(body);
    expect(result.status).toBe(400);
    const paths = result.body.error.details.map((detail: { path: string }) => detail.path);
    expect(paths).toEqual(expect.arrayContaining(["/events/0/id", "/events/0/properties"]));
    expect(await storedEvents(customer)).toBe(0);
  });

  it("refuses a single event whose properties nest as deep as a 1 MiB body allows", async () => {
    // About 500,000 levels: JSON.parse builds it, nothing after it may recurse over it.
    const levels = Math.floor((REQUEST_LIMITS.maxBodyBytes - 200) / 2);
    const body = eventJson("deepest-0", "x.probe", "c-deepest", nestedProperties(levels));
    expect(body.length).toBeLessThanOrEqual(REQUEST_LIMITS.maxBodyBytes);
    const { status, body: answer } = await postRaw(body);
    expect(status).toBe(400);
    expect(answer.error.code).toBe("validation_failed");
    expect(paths(answer)).toEqual(["/properties"]);
    expect(await storedEvents("c-deepest")).toBe(0);
  });

  it("counts objects and arrays alike, and reports a deep item with its other problems", async () => {
    const objects = `{"v":${'{"a":'.repeat(40)}1${"}".repeat(40)}}`;
    const body = `{"events":[${[
      eventJson("mixed-0", "x.probe", "c-mixed", objects),
      eventJson("mixed-1", "x.probe", "c-mixed", nestedProperties(40), "yesterday"),
    ].join(",")}]}`;
    const { status, body: answer } = await postRaw(body);
    expect(status).toBe(400);
    expect(paths(answer).sort()).toEqual([
      "/events/0/properties",
      "/events/1/occurred_at",
      "/events/1/properties",
    ]);
    expect(await storedEvents("c-mixed")).toBe(0);
  });

  it("accepts properties nested exactly at the limit and stores them whole, one level more is refused", async () => {
    const limit = REQUEST_LIMITS.maxPropertiesDepth;
    const atLimit = await postRaw(eventJson("limit-0", "x.probe", "c-limit", nestedProperties(limit)));
    expect(atLimit.status).toBe(200);
    expect(atLimit.body.accepted).toBe(1);
    expect(JSON.parse((await storedProperties("limit-0")) ?? "null")).toEqual(
      JSON.parse(nestedProperties(limit)),
    );

    const over = await postRaw(eventJson("limit-1", "x.probe", "c-limit", nestedProperties(limit + 1)));
    expect(over.status).toBe(400);
    expect(paths(over.body)).toEqual(["/properties"]);
    expect(await storedEvents("c-limit")).toBe(1);
  });
});

describe("names plain objects treat specially are data", () => {
  it("stores a custom event's `__proto__`, `constructor` and `prototype` properties as sent", async () => {
    const properties = '{"__proto__":{"admin":true},"constructor":1,"prototype":"p","plan":"pro"}';
    const { status, body } = await postRaw(eventJson("proto-0", "x.signup", "c-proto", properties));
    expect(status).toBe(200);
    expect(body.accepted).toBe(1);
    // Canonical JSON: keys sorted, `__proto__` kept as a key.
    expect(await storedProperties("proto-0")).toBe(
      '{"__proto__":{"admin":true},"constructor":1,"plan":"pro","prototype":"p"}',
    );
  });

  it("reports a resend that differs only in `properties.__proto__` as conflicting, not as a duplicate", async () => {
    const first = await postRaw(
      eventJson("proto-1", "x.signup", "c-proto-resend", '{"__proto__":1,"plan":"pro"}'),
    );
    expect(first.body.accepted).toBe(1);

    const same = await postRaw(
      eventJson("proto-1", "x.signup", "c-proto-resend", '{"plan":"pro","__proto__":1}'),
    );
    expect(same.status).toBe(200);
    expect(same.body.duplicate_ids).toEqual(["proto-1"]);
    expect(same.body.conflicting_ids).toEqual([]);

    for (const changed of [
      '{"__proto__":2,"plan":"pro"}',
      '{"__proto__":{"a":1},"plan":"pro"}',
      '{"plan":"pro"}',
    ]) {
      const resend = await postRaw(eventJson("proto-1", "x.signup", "c-proto-resend", changed));
      expect(resend.status).toBe(200);
      expect(resend.body.accepted).toBe(0);
      expect(resend.body.conflicting_ids).toEqual(["proto-1"]);
    }
    // The first version stays.
    expect(await storedProperties("proto-1")).toBe('{"__proto__":1,"plan":"pro"}');
  });

  it("reports two events of one request that differ only in `__proto__` as one id used twice", async () => {
    const body = `{"events":[${eventJson("proto-2", "x.signup", "c-proto-twice", '{"__proto__":1}')},${eventJson("proto-2", "x.signup", "c-proto-twice", '{"__proto__":2}')}]}`;
    const { status, body: answer } = await postRaw(body);
    expect(status).toBe(400);
    expect(paths(answer)).toEqual(["/events/1/id"]);
    expect(await storedEvents("c-proto-twice")).toBe(0);
  });

  it("keeps custom attributes named `__proto__`, `constructor` and `prototype` on the profile", async () => {
    const attributes = '{"attributes":{"__proto__":"gold","constructor":3,"prototype":true,"tier":"a"}}';
    const first = await postRaw(eventJson("proto-attr-0", "customer.updated", "c-proto-attr", attributes));
    expect(first.status).toBe(200);
    const stored = await profile(reader, "c-proto-attr");
    expect(Object.entries(stored.attributes).sort()).toEqual([
      ["__proto__", "gold"],
      ["constructor", 3],
      ["prototype", true],
      ["tier", "a"],
    ]);

    // Merged key by key like any attribute: a later null removes it, the others stay.
    const later = '{"attributes":{"__proto__":null,"constructor":4}}';
    await postRaw(
      eventJson("proto-attr-1", "customer.updated", "c-proto-attr", later, "2026-03-02T10:00:00Z"),
    );
    const merged = await profile(reader, "c-proto-attr");
    expect(Object.entries(merged.attributes).sort()).toEqual([
      ["constructor", 4],
      ["prototype", true],
      ["tier", "a"],
    ]);

    // A resend differing only in the `__proto__` attribute is a conflict.
    const changed = '{"attributes":{"__proto__":"silver","constructor":3,"prototype":true,"tier":"a"}}';
    const resend = await postRaw(eventJson("proto-attr-0", "customer.updated", "c-proto-attr", changed));
    expect(resend.body.conflicting_ids).toEqual(["proto-attr-0"]);
  });
});

describe("lone surrogates", () => {
  it("refuses an event id with a lone surrogate on every send, storing nothing", async () => {
    // `\\ud800` here is the six characters of the JSON escape, so the Worker parses a lone surrogate.
    const body = `{"events":[${eventJson("qa-s1\\ud800", "activity", "c-s1", "{}")}]}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const { status, body: answer } = await postRaw(body);
      expect(status).toBe(400);
      expect(answer.error.code).toBe("validation_failed");
      expect(paths(answer)).toEqual(["/events/0/id"]);
    }
    expect(await storedEvents("c-s1")).toBe(0);
    expect(await storedCustomers("c-s1")).toBe(0);
  });

  it("refuses a customer id with a lone surrogate", async () => {
    const { status, body } = await postRaw(eventJson("s2", "activity", "c-s2\\udc00", "{}"));
    expect(status).toBe(400);
    expect(paths(body)).toEqual(["/customer_id"]);
    expect(await storedCustomers("c-s2\udc00")).toBe(0);
  });

  it("refuses a lone surrogate in a property value, a nested string, a property name or an attribute", async () => {
    const body = `{"events":[${[
      eventJson("s3-0", "customer.updated", "c-s3", '{"first_name":"Ad\\ud800a"}'),
      eventJson("s3-1", "x.probe", "c-s3", '{"ok":"fine","list":[{"note":"x\\udfff"}]}'),
      eventJson("s3-2", "x.probe", "c-s3", '{"na\\ud800me":1}'),
      eventJson("s3-3", "customer.updated", "c-s3", '{"attributes":{"tier":"\\ud83d"}}'),
      eventJson("s3-4", "subscription.canceled", "c-s3", '{"reason":"other","comment":"\\ude00 bye"}'),
    ].join(",")}]}`;
    const { status, body: answer } = await postRaw(body);
    expect(status).toBe(400);
    expect(paths(answer)).toEqual([
      "/events/0/properties/first_name",
      "/events/1/properties/list/0/note",
      "/events/2/properties/na\ud800me",
      "/events/3/properties/attributes/tier",
      "/events/4/properties/comment",
    ]);
    expect(await storedEvents("c-s3")).toBe(0);
  });

  it("stores a surrogate pair sent as escapes as the character it encodes, in the event and the profile", async () => {
    const properties = '{"first_name":"\\ud83d\\ude00 Ada","attributes":{"mood":"\\ud83d\\ude00"}}';
    const { status } = await postRaw(eventJson("s4", "customer.updated", "c-s4", properties));
    expect(status).toBe(200);
    const stored = await profile(reader, "c-s4");
    expect(stored.first_name).toBe("😀 Ada");
    expect(stored.attributes).toEqual({ mood: "😀" });
    // The same characters sent unescaped are the same event: a duplicate, not a conflict.
    const resend = await postRaw(
      eventJson("s4", "customer.updated", "c-s4", '{"first_name":"😀 Ada","attributes":{"mood":"😀"}}'),
    );
    expect(resend.body.duplicate_ids).toEqual(["s4"]);
    expect(resend.body.conflicting_ids).toEqual([]);
  });
});

describe("deep values elsewhere in a body", () => {
  it("refuses a deep value where the schemas expect none, without walking it", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const envelope = await postRaw(
      `{"id":"env-0","type":"activity","customer_id":"c-env","occurred_at":"${AT}","extra":${deep}}`,
    );
    expect(envelope.status).toBe(400);
    expect(paths(envelope.body)).toEqual(["/extra"]);
    const item = await postRaw(`{"events":[${deep}]}`);
    expect(item.status).toBe(400);
    expect(paths(item.body)).toEqual(["/events/0"]);
    const attribute = await call("/v1/decisions", {
      key: reader,
      rawBody: `{"customer_id":"c-env","context":"in_app","attributes":{"seats":${deep}}}`,
    });
    expect(attribute.status).toBe(400);
    expect(paths(attribute.body)).toEqual(["/attributes/seats"]);
    expect(await storedEvents("c-env")).toBe(0);
  });
});
