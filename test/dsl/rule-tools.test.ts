// The rule tools where a marketer met their limits: `validate` checks the test files too, each
// problem at the value that is wrong; rule tests assert what a customer sees (an offer's expiry, the
// rendered subject and body, which programme step comes on which day), failing at the expectation
// that failed; money in a test customer is written with its currency; and definitions nothing uses
// are warned about without failing anything.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseMoneyInput } from "../../dsl/cli/customer-input";
import { type Io, main } from "../../dsl/cli/main";
import { assignVariant, inHoldout } from "../../dsl/runtime/bucket";

const scratch = mkdtempSync(join(tmpdir(), "rebound-tools-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[]): Promise<Outcome> {
  let out = "";
  let err = "";
  const io: Io = {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    isTTY: false,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

interface JsonDiagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  severity: string;
  message: string;
  hint?: string;
}

/** A copy of the shipped rules with one extra test file. */
function rulesWithTest(name: string, lines: string[]): string {
  const dir = join(scratch, name);
  cpSync("rules", dir, { recursive: true });
  writeFileSync(join(dir, "extra.test.yaml"), `${lines.join("\n")}\n`);
  return dir;
}

const located = (diagnostics: JsonDiagnostic[]) => diagnostics.map((d) => [d.code, d.line, d.column]);

describe("rebound validate checks the test files beside the rules", () => {
  it("fails on a YAML syntax error in a test file, located, where it used to pass", async () => {
    const dir = rulesWithTest("test-syntax", [
      "tests:",
      "  - name: broken",
      "    expect: { segments: [high_value }",
    ]);
    const result = await run(["validate", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as { ok: boolean; diagnostics: JsonDiagnostic[] };
    expect(report.ok).toBe(false);
    expect(report.diagnostics.length).toBeGreaterThan(0);
    for (const d of report.diagnostics)
      expect([d.code, d.file.endsWith("extra.test.yaml")]).toEqual(["yaml_syntax", true]);
    const human = await run(["validate", dir]);
    expect(human.code).toBe(1);
    expect(human.err).toMatch(/extra\.test\.yaml:3:\d+ error\[yaml_syntax\]/);
  });

  it("points at a misspelt key in a case, not at the case's name", async () => {
    const dir = rulesWithTest("test-keys", [
      "tests:",
      "  - name: misspelt names everywhere",
      "    at: 2026-03-03T15:00:00Z",
      "    customer: { status: active }",
      "    expect:",
      "      segments: [high_valeu]",
      "      offer: { reason: too_expensiv, key: price_high_value, message: offer_prise }",
      "      campaigns: { spring_winbak: true }",
      "      inactivity: [starter_quiet_wek]",
      "      winback: { sequence: prise, day: 7 }",
      "      steps: [{ day: 0, message: dunning_day_O }]",
    ]);
    const result = await run(["validate", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const { diagnostics } = JSON.parse(result.out) as { diagnostics: JsonDiagnostic[] };
    expect(located(diagnostics)).toEqual([
      ["unknown_segment", 6, 18],
      ["unknown_reason", 7, 24],
      ["unknown_message", 7, 70],
      ["unknown_rule", 8, 20],
      ["unknown_rule", 9, 20],
      ["unknown_rule", 10, 28],
      ["unknown_message", 11, 34],
    ]);
    expect(diagnostics[1]!.hint).toBe("did you mean `too_expensive`?");
    expect(diagnostics[3]!.hint).toBe("did you mean `spring_winback`?");
  });

  it("applies the published test schema to what the case checks do not read, located", async () => {
    const dir = rulesWithTest("test-schema", [
      "tests:",
      "  - name: a reminder is a number of days",
      "    expect:",
      "      card_reminders: [thirty]",
    ]);
    const result = await run(["validate", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const { diagnostics } = JSON.parse(result.out) as { diagnostics: JsonDiagnostic[] };
    expect(located(diagnostics)).toEqual([["schema_violation", 4, 24]]);
    expect(diagnostics[0]!.message).toContain("rules-test.schema.json");
  });

  it("passes the shipped rules and counts their test cases", async () => {
    const result = await run(["validate", "rules", "--format", "json"]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.out) as { test_files: string[]; test_cases: number };
    expect(summary.test_files).toHaveLength(4);
    expect(summary.test_cases).toBeGreaterThanOrEqual(55);
  });
});

describe("money in a test customer", () => {
  it("reads amounts written with their currency into minor units", () => {
    expect(parseMoneyInput("$300", "USD", ["customer", "ltv"])).toEqual({ amount: 30_000, currency: "USD" });
    expect(parseMoneyInput("300 USD", "USD", ["customer", "ltv"])).toEqual({
      amount: 30_000,
      currency: "USD",
    });
    expect(parseMoneyInput("€49.50", "USD", ["customer", "ltv"])).toEqual({ amount: 4950, currency: "EUR" });
    expect(parseMoneyInput("$1,200", "USD", ["customer", "ltv"])).toEqual({
      amount: 120_000,
      currency: "USD",
    });
    expect(parseMoneyInput("500 JPY", "USD", ["x"])).toEqual({ amount: 500, currency: "JPY" });
    expect(parseMoneyInput("$300", "EUR", ["x"])).toEqual({ amount: 30_000, currency: "EUR" });
    expect(parseMoneyInput(0, "USD", ["x"])).toEqual({ amount: 0, currency: "USD" });
    expect(() => parseMoneyInput("$10.005", "USD", ["x"])).toThrow(/2 decimal places/);
    expect(() => parseMoneyInput("$99999999999999999999", "USD", ["x"])).toThrow(/too large/);
  });

  it("hints at minor units in the ruleset's own currency, and not at all for one without them", () => {
    const hintFor = (currency: string) => {
      try {
        parseMoneyInput(300, currency, ["customer", "ltv"]);
      } catch (error) {
        return (error as { hint?: string }).hint ?? "";
      }
      throw new Error("a bare number was accepted");
    };
    expect(hintFor("USD")).toContain('"$3.00" if you meant 300 minor units');
    expect(hintFor("KWD")).toContain('"$0.300" if you meant 300 minor units');
    expect(hintFor("JPY")).not.toContain("minor units");
  });

  it("keeps a free event property that only ends like money as text", async () => {
    const dir = rulesWithTest("money-text", [
      "tests:",
      "  - name: a coupon code and a path are text",
      "    at: 2026-03-03T15:00:00Z",
      "    customer: { status: active }",
      "    events:",
      '      - { type: x.page_viewed, at: 1d ago, properties: { coupon: "SAVE20NOW", sku: "A100XYZ", note: "$HOME" } }',
      "    expect: { segments: [fading, low_value] }",
    ]);
    const result = await run(["test", dir, "--format", "json"]);
    const report = JSON.parse(result.out) as {
      diagnostics: JsonDiagnostic[];
      cases: { name: string; ok: boolean }[];
    };
    expect(report.diagnostics).toEqual([]);
    expect(report.cases.find((c) => c.name === "a coupon code and a path are text")?.ok).toBe(true);
  });

  it("refuses a bare number at the number, saying how to write it", async () => {
    const dir = rulesWithTest("money-bare", [
      "tests:",
      "  - name: ltv as a bare number",
      "    at: 2026-03-03T15:00:00Z",
      "    customer: { status: active, ltv: 300 }",
      "    expect: { segments: [] }",
      "  - name: an order amount as a bare number",
      "    at: 2026-03-03T15:00:00Z",
      "    events:",
      "      - { type: order.completed, at: 1d ago, properties: { amount: 12000 } }",
      "    expect: { segments: [] }",
    ]);
    const result = await run(["validate", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const { diagnostics } = JSON.parse(result.out) as { diagnostics: JsonDiagnostic[] };
    expect(located(diagnostics)).toEqual([
      ["schema_violation", 4, 38],
      ["schema_violation", 9, 68],
    ]);
    expect(diagnostics[0]!.message).toContain("customer.ltv: 300 is a bare number");
    expect(diagnostics[0]!.hint).toContain('"$300"');
    expect(diagnostics[0]!.hint).toContain('"$3.00" if you meant 300 minor units');
    expect(diagnostics[1]!.message).toContain("events[0].properties.amount: 12000 is a bare number");
  });

  it("refuses an amount in another currency than the customer's", async () => {
    const dir = rulesWithTest("money-currency", [
      "tests:",
      "  - name: euros for a dollar customer",
      "    at: 2026-03-03T15:00:00Z",
      "    customer: { status: active, ltv: €800 }",
      "    expect: { segments: [] }",
      "  - name: euros for a euro customer",
      "    at: 2026-03-03T15:00:00Z",
      // €800 is worth $864 at the rules' EUR rate (settings.exchange_rates): high value.
      "    customer: { status: active, currency: EUR, ltv: €800, mrr: 49 EUR }",
      "    expect: { segments: [high_value, fading] }",
    ]);
    const result = await run(["test", dir, "--format", "json"]);
    const report = JSON.parse(result.out) as {
      diagnostics: JsonDiagnostic[];
      cases: { name: string; ok: boolean }[];
    };
    expect(located(report.diagnostics)).toEqual([["schema_violation", 4, 38]]);
    expect(report.diagnostics[0]!.hint).toContain("currency: EUR");
    expect(report.cases.find((c) => c.name === "euros for a euro customer")?.ok).toBe(true);
  });

  it("locates a bare number in a customer file for explain and preview", async () => {
    const customer = join(scratch, "bare.yaml");
    writeFileSync(customer, "customer:\n  status: active\n  ltv: 300\n");
    const result = await run(["explain", "--customer", customer, "--at", "2026-03-03T15:00:00Z"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`${customer}:3:8: customer.ltv: 300 is a bare number`);
    expect(result.err).toContain('hint: write "$300"');
  });
});

describe("rule tests assert what a customer sees", () => {
  it("passes the shipped examples of expiry, rendered text and programme steps", async () => {
    const result = await run(["test", "rules", "--format", "json"]);
    expect(result.code).toBe(0);
    const { cases } = JSON.parse(result.out) as { cases: { name: string; ok: boolean }[] };
    for (const name of [
      "the $20 offer expires two weeks after it is shown, and its email says so",
      "a failed payment gets six emails, then the account is closed on day 30",
      "a high-value price churner gets the win-back emails, the day-30 one with the $20 offer",
    ]) {
      expect(cases.find((c) => c.name === name)?.ok, name).toBe(true);
    }
  });

  it("fails at the expectation that does not hold: expiry, subject, body, step", async () => {
    // A customer the price test shows its `twenty` variant ($20 off), asked of the bucketing.
    const priceVariants = [
      { key: "twenty", weight: 50 },
      { key: "habit", weight: 50 },
    ];
    const twenty = Array.from({ length: 100 }, (_, i) => `cus_${i + 1}`).find(
      (id) =>
        !inHoldout("offer_price_high_value", id, 10) &&
        assignVariant("offer_price_high_value", id, priceVariants)!.key === "twenty",
    )!;
    const dir = rulesWithTest("assertions", [
      "tests:",
      "  - name: wrong expiry and text",
      "    at: 2026-03-03T15:00:00Z",
      `    customer: { id: ${twenty}, status: active, first_name: Ada, ltv: $800, mrr: $49 }`,
      "    expect:",
      "      offer:",
      "        reason: too_expensive",
      "        key: price_high_value",
      "        expires_in: 7d",
      "        subject: Ada, here is $25 off to stay",
      '        body: { contains: "until March 17, 2026" }',
      "  - name: a cadence that is not the rules'",
      "    at: 2026-03-03T15:00:00Z",
      "    customer: { status: past_due, payment_failed_at: now }",
      "    expect:",
      "      steps:",
      "        - { day: 0, message: dunning_day_0 }",
      "        - { day: 2, message: dunning_day_3 }",
      "  - name: a step list that stops early",
      "    at: 2026-03-03T15:00:00Z",
      "    customer: { status: past_due, payment_failed_at: now }",
      "    expect:",
      "      steps:",
      "        - { day: 0, final: [cancel] }",
    ]);
    const result = await run(["test", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as {
      cases: {
        file: string;
        name: string;
        ok: boolean;
        failures: { what: string; expected: string; actual: string; line: number; column: number }[];
      }[];
    };
    const extra = report.cases.filter((c) => c.file.endsWith("extra.test.yaml"));
    const at = (index: number) => extra[index]!.failures.map((f) => [f.what, f.line, f.column]);
    expect(at(0)).toEqual([
      ["offer (cancel_flow, too_expensive) expiry", 9, 21],
      ["offer (cancel_flow, too_expensive) subject", 10, 18],
    ]);
    expect(extra[0]!.failures[0]!.actual).toContain("in 14d");
    expect(extra[0]!.failures[1]!.actual).toBe('"Ada, here is $20 off to stay"');
    // At the first field that differs, then once for the steps the list leaves out.
    expect(at(1)).toEqual([
      ["step 2", 18, 18],
      ["programme steps", 17, 9],
    ]);
    expect(extra[1]!.failures[0]!.actual).toBe("dunning standard day 3, message dunning_day_3");
    expect(at(2)).toEqual([
      ["step 1", 24, 28],
      ["programme steps", 24, 9],
    ]);

    const human = await run(["test", dir]);
    expect(human.out).toContain("FAIL wrong expiry and text");
    expect(human.out).toMatch(/offer \(cancel_flow, too_expensive\) expiry .*extra\.test\.yaml:9:21/);
  });
});

describe("warnings for definitions nothing uses", () => {
  const dir = join(scratch, "unused");
  const rules = [
    "settings: { currency: USD }",
    "segments:",
    "  vip: ltv >= $500",
    "  big_vip: vip and ltv >= $5000", // vip: used by another segment
    '  lapsed: status == "canceled"', // a win-back `when`
    '  late: status == "past_due"', // a dunning `when`
    "  audience_only: ltv >= $100", // a campaign audience
    "  quiet_segment: ltv >= $50", // an inactivity segment
    "  orphan: ltv >= $1",
    "rewards:",
    "  ten_off: { amount_off: $10, expires_after: 14d }",
    "  variant_reward: { amount_off: $5, expires_after: 14d }", // an offer variant's
    "  spare_reward: { amount_off: $1, expires_after: 14d }",
    "messages:",
    '  offer_msg: { body: "Take {{ offer_amount }}" }',
    '  fallback: { body: "Hello" }', // a step's fallback
    '  dunning_msg: { body: "Pay" }',
    '  card_msg: { body: "Card" }',
    '  nudge: { body: "Come back" }',
    '  campaign_msg: { body: "Hi" }',
    '  forgotten: { body: "Never sent" }',
    "offers:",
    "  - key: vip_offer",
    "    segment: big_vip",
    "    reward: ten_off",
    "    message: offer_msg",
    "    experiment: { variants: [{ key: a, weight: 50 }, { key: b, weight: 50, reward: variant_reward }] }",
    "dunning:",
    "  - key: std",
    "    when: late",
    "    steps: [{ day: 0, message: dunning_msg }]",
    "    final: { day: 3, action: cancel }",
    "card_expiry: { days_before: [7], message: card_msg }",
    "inactivity:",
    "  - { key: quiet, segment: quiet_segment, after: 7d, message: nudge }",
    "winback:",
    "  - key: wb",
    "    reasons: [too_expensive]",
    "    when: lapsed",
    "    steps: [{ day: 7, message: offer_msg, offer: best, fallback_message: fallback }]",
    "campaigns:",
    "  spring:",
    '    schedule: "0 10 * * TUE"',
    "    timezone: UTC",
    "    audience: audience_only",
    "    steps: [{ message: campaign_msg }]",
  ];

  it("are located at the unused definition, in JSON with severity warning, and change no exit code", async () => {
    rmSync(dir, { recursive: true, force: true });
    cpSync("rules", dir, { recursive: true, filter: (path) => !path.endsWith(".yaml") });
    writeFileSync(join(dir, "rules.yaml"), `${rules.join("\n")}\n`);
    const validate = await run(["validate", dir, "--format", "json"]);
    expect(validate.code).toBe(0);
    const summary = JSON.parse(validate.out) as { ok: boolean; warnings: JsonDiagnostic[] };
    expect(summary.ok).toBe(true);
    expect(summary.warnings.map((w) => [w.code, w.line, w.column, w.severity])).toEqual([
      ["unused_segment", 9, 3, "warning"],
      ["unused_reward", 13, 3, "warning"],
      ["unused_message", 21, 3, "warning"],
    ]);
    expect(summary.warnings[0]!.message).toContain("`orphan`");

    const human = await run(["validate", dir]);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^ok /);
    expect(human.err).toContain("rules.yaml:21:3 warning[unused_message]: message `forgotten` is not used");
    expect(human.err).toContain("3 warnings");

    const build = await run(["build", dir, "--out", join(scratch, "unused-out"), "--format", "json"]);
    expect(build.code).toBe(0);
    expect((JSON.parse(build.out) as { warnings: unknown[] }).warnings).toHaveLength(3);
    expect(readFileSync(join(scratch, "unused-out", "ruleset.json"), "utf8")).toContain('"orphan"');
  });

  it("are shown by `rebound test` too, and the shipped rules' unused segments are named", async () => {
    const result = await run(["test", "rules", "--format", "json"]);
    expect(result.code).toBe(0);
    const { warnings } = JSON.parse(result.out) as { warnings: JsonDiagnostic[] };
    expect(warnings.map((w) => w.message.split("`")[1])).toEqual([
      "recently_canceled",
      "price_churner",
      "detractor",
      "happy_after_ticket",
    ]);
  });

  it("are not given for rules with errors, whose references cannot be trusted", async () => {
    const broken = join(scratch, "unused-broken");
    rmSync(broken, { recursive: true, force: true });
    cpSync(dir, broken, { recursive: true });
    writeFileSync(
      join(broken, "rules.yaml"),
      `${rules.join("\n").replace("segment: big_vip", "segment: big_vipp")}\n`,
    );
    const result = await run(["validate", broken, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as { diagnostics: JsonDiagnostic[]; warnings: JsonDiagnostic[] };
    expect(report.diagnostics.map((d) => d.code)).toEqual(["unknown_segment"]);
    expect(report.warnings).toEqual([]);
  });
});
