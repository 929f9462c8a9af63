// enqueueSends and publishDueSends: what a tick gets back, what is refused, how sends are chunked
// into queue batches, and how a send deferred past the queue's 12-hour delay limit is published later.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { enqueueSends } from "../../worker/sends/enqueue";
import { SEND_LIMITS } from "../../worker/sends/limits";
import { publishDueSends } from "../../worker/sends/publish";
import { SendConfigError } from "../../worker/sends/settings";
import type { SendRequest } from "../../worker/sends/types";
import { SendRequestError } from "../../worker/sends/validate";
import { envWith, sendRequest, sendRow, T0 } from "./sends-fixtures";

async function countSends(where = "1 = 1"): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM sends WHERE ${where}`).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("enqueueSends", () => {
  it("writes queued rows with the variable snapshot, the default channel, and publishes them", async () => {
    const request = sendRequest({ customerId: "cus_snapshot" });
    const result = await enqueueSends(env, [request], T0);
    expect(result).toEqual({
      createdIds: [expect.stringMatching(/^snd_[0-9a-f]{28}$/)],
      duplicates: 0,
      published: 1,
      deferred: 0,
    });
    const row = await sendRow(result.createdIds[0]!);
    expect(row).toMatchObject({
      programme_kind: "dunning",
      programme_key: "default",
      occurrence: "inv_1001",
      step: "day-0",
      customer_id: "cus_snapshot",
      channel: "outbox",
      message_key: "dunning_day_0",
      recipient: request.recipient,
      status: "queued",
      attempts: 0,
      not_before: T0,
      created_at: T0,
      enqueued_at: T0,
    });
    expect(JSON.parse(row.variables)).toEqual(request.variables);
  });

  it("the rules' channel wins over the default, and the channel is fixed on the row", async () => {
    const result = await enqueueSends(env, [sendRequest({ channel: "webhook" })], T0);
    expect((await sendRow(result.createdIds[0]!)).channel).toBe("webhook");
  });

  it("a different step, occurrence or programme for the same customer is a different send", async () => {
    const base = sendRequest({ customerId: "cus_steps" });
    const result = await enqueueSends(
      env,
      [
        base,
        { ...base, step: "day-3" },
        { ...base, occurrence: "inv_1002" },
        { ...base, programmeKey: "annual" },
        { ...base, programmeKind: "card_expiry" },
      ],
      T0,
    );
    expect(result.createdIds).toHaveLength(5);
    expect(result.duplicates).toBe(0);
  });

  // miniflare refuses a sendBatch of more than 100 messages, so this also proves the batching.
  it("handles a tick's worth of sends: 1,250 in one call, published in queue batches of at most 100", async () => {
    const requests: SendRequest[] = Array.from({ length: 1_250 }, (_, i) =>
      sendRequest({
        programmeKind: "campaign",
        programmeKey: "spring",
        occurrence: "2031-03-03T09:00",
        step: "0",
        customerId: `cus_bulk_${i}`,
      }),
    );
    const result = await enqueueSends(env, requests, T0);
    expect(result.createdIds).toHaveLength(1_250);
    expect(result.published).toBe(1_250);
    expect(await countSends("programme_key = 'spring' AND enqueued_at IS NOT NULL")).toBe(1_250);
    const again = await enqueueSends(env, requests, T0 + 60_000);
    expect(again.createdIds).toEqual([]);
    expect(again.duplicates).toBe(1_250);
    expect(await countSends("programme_key = 'spring'")).toBe(1_250);
  });

  it("refuses invalid requests with every problem listed and writes nothing", async () => {
    const before = await countSends();
    const bad = [
      sendRequest(),
      { ...sendRequest(), programmeKind: "newsletter" },
      { ...sendRequest(), customerId: "" },
      { ...sendRequest(), variables: [] },
      { ...sendRequest(), channel: "sms" },
      { ...sendRequest(), notBefore: Number.NaN },
      { ...sendRequest(), step: "x".repeat(300) },
    ] as unknown as SendRequest[];
    const error = await enqueueSends(env, bad, T0).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SendRequestError);
    expect((error as SendRequestError).problems).toEqual([
      { index: 1, field: "programmeKind", message: expect.stringContaining("campaign, dunning") },
      { index: 2, field: "customerId", message: "must be a non-empty string" },
      { index: 3, field: "variables", message: "must be an object of template variables" },
      { index: 4, field: "channel", message: expect.stringContaining("outbox") },
      { index: 5, field: "notBefore", message: "must be epoch milliseconds" },
      { index: 6, field: "step", message: "must be at most 256 characters" },
    ]);
    expect(await countSends()).toBe(before);
  });

  it("refuses to enqueue under a DEFAULT_CHANNEL that does not exist, before writing anything", async () => {
    const before = await countSends();
    await expect(enqueueSends(envWith({ DEFAULT_CHANNEL: "pigeon" }), [sendRequest()], T0)).rejects.toThrow(
      SendConfigError,
    );
    expect(await countSends()).toBe(before);
  });

  it("an empty list does nothing", async () => {
    expect(await enqueueSends(env, [], T0)).toEqual({
      createdIds: [],
      duplicates: 0,
      published: 0,
      deferred: 0,
    });
  });
});

describe("deferred sends (quiet hours)", () => {
  it("a send due within 12 hours is published at once with a delay; later ones wait for publishDueSends", async () => {
    const soon = sendRequest({ notBefore: T0 + 8 * 3_600_000 });
    const later = sendRequest({ notBefore: T0 + 30 * 3_600_000 });
    const result = await enqueueSends(env, [soon, later], T0);
    expect(result).toMatchObject({ published: 1, deferred: 1 });
    const [soonId, laterId] = result.createdIds;
    expect(await sendRow(soonId!)).toMatchObject({ not_before: T0 + 8 * 3_600_000, enqueued_at: T0 });
    expect(await sendRow(laterId!)).toMatchObject({
      not_before: T0 + 30 * 3_600_000,
      enqueued_at: null,
      status: "queued",
    });

    // Ticks before it comes within the queue's delay limit leave it alone.
    expect(await publishDueSends(env, T0 + 17 * 3_600_000)).toBe(0);
    expect((await sendRow(laterId!)).enqueued_at).toBeNull();
    // Once it is within 12 hours of due, a tick publishes it (once).
    const tick = T0 + 18 * 3_600_000 + 1;
    expect(await publishDueSends(env, tick)).toBe(1);
    expect((await sendRow(laterId!)).enqueued_at).toBe(tick);
    expect(await publishDueSends(env, tick + 300_000)).toBe(0);
  });

  it("a notBefore in the past is now", async () => {
    const result = await enqueueSends(env, [sendRequest({ notBefore: T0 - 3_600_000 })], T0);
    expect((await sendRow(result.createdIds[0]!)).not_before).toBe(T0);
  });
});

describe("publishDueSends recovers sends whose enqueuing invocation died before sendBatch", () => {
  it("republishes a queued row never marked enqueued once it is older than the grace period", async () => {
    const result = await enqueueSends(env, [sendRequest()], T0);
    const sendId = result.createdIds[0]!;
    // As if the invocation had died between its INSERT and its sendBatch.
    await env.DB.prepare("UPDATE sends SET enqueued_at = NULL WHERE id = ?").bind(sendId).run();

    expect(await publishDueSends(env, T0 + SEND_LIMITS.republishAfterMs - 1)).toBe(0);
    expect(await publishDueSends(env, T0 + SEND_LIMITS.republishAfterMs)).toBe(1);
    expect((await sendRow(sendId)).enqueued_at).toBe(T0 + SEND_LIMITS.republishAfterMs);
  });
});
