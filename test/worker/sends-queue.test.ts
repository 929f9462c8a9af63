// The real producer → consumer path: enqueueSends publishes to the rebound-sends queue binding,
// miniflare delivers the batch to the Worker's own queue() entry point (worker/index.ts →
// handleQueue), which renders from the deployed ruleset and delivers through the default channel
// (outbox, from wrangler.toml). Wall-clock time here: the queue consumer runs on Date.now().
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import { enqueueSends } from "../../worker/sends/enqueue";
import type { SendRow } from "../../worker/sends/types";
import { call, issueKey } from "./helpers";
import { sendRequest } from "./sends-fixtures";

async function waitForStatus(sendId: string, status: string): Promise<SendRow> {
  return vi.waitFor(
    async () => {
      const row = await env.DB.prepare("SELECT * FROM sends WHERE id = ?").bind(sendId).first<SendRow>();
      if (row?.status !== status) throw new Error(`send ${sendId} is ${row?.status}, waiting for ${status}`);
      return row;
    },
    { timeout: 20_000, interval: 100 },
  );
}

it("a send enqueued on the real queue is consumed by the Worker's queue handler and lands in the outbox once", async () => {
  const request = sendRequest({
    customerId: "cus_real_queue",
    messageKey: "dunning_day_0",
    variables: {
      first_name: "Ada",
      card_last4: "4242",
      failed_amount: "$49.00",
      update_url: "https://pay.example/u",
    },
  });
  // Two ticks at once, as a retried cron might run them.
  const now = Date.now();
  const [first, second] = await Promise.all([
    enqueueSends(env, [request], now),
    enqueueSends(env, [request], now),
  ]);
  const createdIds = [...first.createdIds, ...second.createdIds];
  expect(createdIds).toHaveLength(1);

  const row = await waitForStatus(createdIds[0]!, "sent");
  expect(row).toMatchObject({ channel: "outbox", attempts: 1, provider_message_id: createdIds[0] });

  const key = await issueKey(["admin"]);
  const { body } = await call("/v1/outbox?customer_id=cus_real_queue", { key });
  expect(body.messages).toHaveLength(1);
  expect(body.messages[0].subject).toBe("Your payment did not go through");
  expect(body.messages[0].text).toContain("Hi Ada");
  expect(body.messages[0].text).toContain("4242");
  expect(body.messages[0].text).toContain("https://pay.example/u");
});

it("a send whose message is not in the deployed ruleset ends dead with the reason, not silently", async () => {
  const { createdIds } = await enqueueSends(
    env,
    [sendRequest({ messageKey: "retired_message" })],
    Date.now(),
  );
  const row = await waitForStatus(createdIds[0]!, "dead");
  expect(row.last_error).toBe('message "retired_message" is not in the ruleset');
});
