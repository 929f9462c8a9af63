// GET /v1/sends and GET /v1/sends/:id: filters, keyset pagination, bad queries, and auth.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { enqueueSends } from "../../worker/sends/enqueue";
import { listSends } from "../../worker/sends/list";
import { call, issueKey } from "./helpers";
import { receiverPath, scriptReceiver } from "./receiver";
import { consume, sendRequest, T0, webhookEnv } from "./sends-fixtures";

let adminKey = "";
const ids: { sent: string[]; dead: string[]; queued: string[] } = { sent: [], dead: [], queued: [] };

beforeAll(async () => {
  adminKey = await issueKey(["admin"]);
  const path = receiverPath("routes");
  const testEnv = webhookEnv(path);
  await scriptReceiver(path, [{ status: 400 }, { status: 400 }]);
  const dead = await enqueueSends(
    testEnv,
    [sendRequest({ customerId: "cus_r1" }), sendRequest({ customerId: "cus_r2" })],
    T0,
  );
  for (const id of dead.createdIds) await consume(testEnv, [id], T0);
  ids.dead = dead.createdIds;
  const sent = await enqueueSends(
    testEnv,
    Array.from({ length: 5 }, () => sendRequest({ customerId: "cus_r1", step: `s${Math.random()}` })),
    T0 + 1_000,
  );
  await consume(testEnv, sent.createdIds, T0 + 1_000);
  ids.sent = sent.createdIds;
  ids.queued = (await enqueueSends(testEnv, [sendRequest({ customerId: "cus_r3" })], T0 + 2_000)).createdIds;
});

describe("GET /v1/sends", () => {
  it("lists every send, newest first, with status, attempts and error", async () => {
    const { status, body } = await call("/v1/sends", { key: adminKey });
    expect(status).toBe(200);
    expect(body.sends.map((send: { id: string }) => send.id)).toEqual(
      [...ids.dead, ...ids.sent, ...ids.queued].sort().reverse(),
    );
    const dead = body.sends.find((send: { id: string }) => send.id === ids.dead[0]);
    expect(dead).toMatchObject({
      status: "dead",
      attempts: 1,
      channel: "webhook",
      customer_id: "cus_r1",
      programme: { kind: "dunning", key: "default", occurrence: "inv_1001", step: "day-0" },
      message_key: "dunning_day_0",
      variables: { first_name: "Ada", card_last4: "4242", update_url: "https://billing.example.com/update" },
      created_at: new Date(T0).toISOString(),
      sent_at: null,
    });
    expect(dead.last_error).toContain("HTTP 400");
    expect(body.next_cursor).toBeNull();
  });

  it("filters by one or several statuses, and by customer", async () => {
    const dead = await call("/v1/sends?status=dead", { key: adminKey });
    expect(dead.body.sends.map((send: { id: string }) => send.id).sort()).toEqual([...ids.dead].sort());
    const deadOrQueued = await call("/v1/sends?status=dead,queued", { key: adminKey });
    expect(deadOrQueued.body.sends.map((send: { id: string }) => send.id)).toEqual(
      [...ids.dead, ...ids.queued].sort().reverse(),
    );
    const sentToR1 = await call("/v1/sends?status=sent&customer_id=cus_r1", { key: adminKey });
    expect(sentToR1.body.sends).toHaveLength(5);
    const r2 = await call("/v1/sends?customer_id=cus_r2", { key: adminKey });
    expect(r2.body.sends.map((send: { id: string }) => send.id)).toEqual([ids.dead[1]]);
  });

  it("pages with limit and cursor, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : "";
      const { body } = await call(`/v1/sends?limit=3${query}`, { key: adminKey });
      expect(body.sends.length).toBeLessThanOrEqual(3);
      seen.push(...body.sends.map((send: { id: string }) => send.id));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids.dead, ...ids.sent, ...ids.queued].sort().reverse());

    const firstPage = await call("/v1/sends?status=sent&limit=2", { key: adminKey });
    const secondPage = await call(`/v1/sends?status=sent&limit=2&cursor=${firstPage.body.next_cursor}`, {
      key: adminKey,
    });
    expect(secondPage.body.sends.map((send: { id: string }) => send.id)).toEqual(
      [...ids.sent].sort().reverse().slice(2, 4),
    );
  });

  it("answers 400 with every bad parameter named", async () => {
    const { status, body } = await call("/v1/sends?status=lost&limit=0&cursor=abc", { key: adminKey });
    expect(status).toBe(400);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details.map((detail: { path: string }) => detail.path).sort()).toEqual([
      "?cursor",
      "?limit",
      "?status",
    ]);
    expect((await call("/v1/sends?limit=201", { key: adminKey })).status).toBe(400);
    expect((await call("/v1/sends?limit=2.5", { key: adminKey })).status).toBe(400);
  });

  it("reads one send by id, 404 for an unknown one", async () => {
    const found = await call(`/v1/sends/${ids.queued[0]}`, { key: adminKey });
    expect(found.status).toBe(200);
    expect(found.body.send).toMatchObject({ id: ids.queued[0], status: "queued", customer_id: "cus_r3" });
    const missing = await call("/v1/sends/snd_000000000000ffffffffffffffff", { key: adminKey });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("send_not_found");
  });

  it("needs an admin key: 401 without one, 403 with an events:write key", async () => {
    expect((await call("/v1/sends")).status).toBe(401);
    expect((await call("/v1/outbox")).status).toBe(401);
    const writer = await issueKey(["events:write"]);
    expect((await call("/v1/sends", { key: writer })).status).toBe(403);
    expect((await call("/v1/outbox", { key: writer })).status).toBe(403);
  });

  it("a page reads about as many rows as it returns, however many other sends exist (index seeks, not scans)", async () => {
    const many = await enqueueSends(
      env,
      Array.from({ length: 300 }, (_, i) => sendRequest({ customerId: `cus_bulk_${i}`, step: "bulk" })),
      T0 + 3_000,
    );
    expect(many.createdIds).toHaveLength(300);
    const dead = await listSends(env.DB, { statuses: ["dead"], customerId: null, cursor: null, limit: 50 });
    expect(dead.items).toHaveLength(2);
    expect(dead.rowsRead).toBeLessThanOrEqual(4);
    const deadOrSent = await listSends(env.DB, {
      statuses: ["dead", "sent"],
      customerId: null,
      cursor: null,
      limit: 3,
    });
    expect(deadOrSent.items).toHaveLength(3);
    expect(deadOrSent.rowsRead).toBeLessThanOrEqual(2 * 4 + 3);
    const firstQueued = await listSends(env.DB, {
      statuses: ["queued"],
      customerId: null,
      cursor: null,
      limit: 10,
    });
    expect(firstQueued.rowsRead).toBeLessThanOrEqual(2 * 11);
    const oneCustomer = await listSends(env.DB, {
      statuses: [],
      customerId: "cus_r1",
      cursor: null,
      limit: 50,
    });
    expect(oneCustomer.items).toHaveLength(6);
    expect(oneCustomer.rowsRead).toBeLessThanOrEqual(6 + 1);
    const newest = await listSends(env.DB, { statuses: [], customerId: null, cursor: null, limit: 10 });
    expect(newest.rowsRead).toBeLessThanOrEqual(11);
  });
});
