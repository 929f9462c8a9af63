// README's Decisions example, run as written: the events it ingests (its `$(at …)` times read
// against the fixtures' clock T0, the tour's "now") give the cus_9 answer the README shows.
import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { at, DAY, decide, T0, useDecisionKeys } from "./decision-fixtures";
import { ingest } from "./helpers";

const keys = useDecisionKeys();

/** The `C9=$(cat <<EOF … EOF` body of the Decisions example, with `$(at -80d)` as T0 − 80 days. */
function readmeEvents(): unknown[] {
  const section = readme.slice(readme.indexOf("## Decisions"));
  const body = /^C9=\$\(cat <<EOF\n([\s\S]*?)\nEOF$/m.exec(section)?.[1];
  if (body === undefined) throw new Error("README's Decisions example has no C9 heredoc");
  const json = body.replace(/\$\(at (-?\d+)d\)/g, (_, days: string) => at(Number(days)));
  return (JSON.parse(json) as { events: unknown[] }).events;
}

/** The body of the example's POST /v1/decisions. */
function readmeRequest(): {
  customer_id: string;
  context: string;
  reason: string;
  attributes: Record<string, unknown>;
} {
  const section = readme.slice(readme.indexOf("## Decisions"));
  const body = /\/v1\/decisions -H[^\n]*\\\n[^\n]*\\\n\s+-d '([^']+)'/.exec(section)?.[1];
  if (body === undefined) throw new Error("README's Decisions example has no POST /v1/decisions");
  return JSON.parse(body);
}

describe("README's decision example", () => {
  it("offers cus_9 the $20 price offer (variant twenty) with its message and a 14-day expiry", async () => {
    const events = readmeEvents();
    expect(events).toHaveLength(3);
    await ingest(keys.writer, events);
    const request = readmeRequest();
    expect(request).toEqual({
      customer_id: "cus_9",
      context: "cancel_flow",
      reason: "too_expensive",
      attributes: { seats: 12 },
    });
    const { status, body } = await decide(request.customer_id, request.context, {
      key: keys.admin,
      reason: request.reason,
      attributes: request.attributes,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      customer_id: "cus_9",
      context: "cancel_flow",
      reason: "too_expensive",
      offer: {
        key: "price_high_value",
        reward: {
          type: "amount_off",
          key: "twenty_off",
          amount: 2000,
          currency: "USD",
          expires_after_ms: 1_209_600_000,
          description: "$20 off",
        },
        message: { key: "offer_price", channel: null, subject: "Grace, here is $20 off to stay" },
        expires_at: new Date(T0 + 14 * DAY).toISOString(),
      },
      reason_code: "offered",
      why: "price_high_value: matched: reason is too_expensive; in segment high_value; variant twenty of offer_price_high_value",
      variant: "twenty",
      experiment: "offer_price_high_value",
      holdout: false,
      status: "outstanding",
      source: "api",
      created_at: at(0),
      responded_at: null,
      reused: false,
    });
    // The answer the README prints says the same.
    const answer = readme.slice(readme.indexOf("The answer (200"));
    expect(answer).toContain(`"why": "${body.why}"`);
    expect(answer).toContain(`"subject": "${body.offer.message.subject}"`);
    expect(answer).toContain(`"variant": "${body.variant}"`);
  });
});
