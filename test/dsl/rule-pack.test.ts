// The shipped rule pack: `rebound validate rules` and `rebound test rules` pass (so CI checks what
// ships), the published JSON Schema accepts every rule file, a broken copy fails with located errors,
// and `rebound build` writes an artifact the runtime loads, or nothing at all.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Io, main } from "../../dsl/cli/main";
import { readRuleDirectory } from "../../dsl/cli/rule-files";
import { readSchema } from "../../dsl/cli/schema-check";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { loadRuleset } from "../../dsl/runtime/ruleset";

const scratch = mkdtempSync(join(tmpdir(), "rebound-pack-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
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

describe("the default rule pack", () => {
  it("validates", async () => {
    const result = await run(["validate", "rules", "--format", "json"]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.out) as {
      ok: boolean;
      version: string;
      counts: Record<string, number>;
    };
    expect(summary.ok).toBe(true);
    expect(summary.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(summary.counts.campaigns).toBeGreaterThanOrEqual(1);
    expect(summary.counts.dunning).toBe(1);
  });

  it("passes its own tests", async () => {
    const result = await run(["test", "rules", "--format", "json"]);
    const report = JSON.parse(result.out) as {
      ok: boolean;
      passed: number;
      failed: number;
      cases: unknown[];
    };
    expect(report.failed, JSON.stringify(report.cases, null, 2)).toBe(0);
    expect(report.passed).toBeGreaterThanOrEqual(40);
    expect(result.code).toBe(0);
  });

  it("answers every churn reason the way the playbook says", () => {
    const { rules } = readRuleDirectory("rules");
    const offers = rules.find((f) => f.path.endsWith("offers.yaml"))!.text;
    expect(offers).toContain("reasons: [too_expensive]");
    expect(offers).toContain("reasons: [hard_to_use]");
    expect(offers).not.toContain("shutting_down");
  });

  it("is accepted by the published JSON Schema, file by file", () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(readSchema());
    for (const file of readRuleDirectory("rules").rules) {
      expect(validate(parse(file.text)), `${file.path}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(file.text.split("\n")[0]).toBe("# yaml-language-server: $schema=../dsl/rules.schema.json");
    }
  });

  it("has test files the published test schema accepts", () => {
    const schema = JSON.parse(readFileSync("dsl/rules-test.schema.json", "utf8")) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const { tests } = readRuleDirectory("rules");
    expect(tests.length).toBeGreaterThanOrEqual(4);
    for (const file of tests) {
      expect(validate(parse(file.text)), `${file.path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("runs through the installed `rebound` bin", () => {
    const out = execFileSync(process.execPath, ["dsl/cli/bin.mjs", "validate", "rules"], {
      encoding: "utf8",
    });
    expect(out).toMatch(/^ok rules: \d+ files/);
  });

  it("a broken copy fails validation with located errors and builds nothing", async () => {
    const dir = join(scratch, "broken");
    cpSync("rules", dir, { recursive: true });
    const offersPath = join(dir, "offers.yaml");
    const offers = readFileSync(offersPath, "utf8");
    writeFileSync(
      offersPath,
      offers
        .replace("segment: high_value", "segment: high_valu")
        .replace("when: not low_value", 'when: ltv >= "100"'),
    );
    const result = await run(["validate", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as {
      diagnostics: { file: string; line: number; column: number; code: string; hint?: string }[];
    };
    const lines = readFileSync(offersPath, "utf8").split("\n");
    const segmentLine = lines.findIndex((l) => l.includes("segment: high_valu")) + 1;
    const whenLine = lines.findIndex((l) => l.includes('when: ltv >= "100"')) + 1;
    expect(report.diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: offersPath,
          code: "unknown_segment",
          line: segmentLine,
          column: 14,
          hint: "did you mean `high_value`?",
        }),
        expect.objectContaining({ file: offersPath, code: "type_mismatch", line: whenLine }),
      ]),
    );
    const human = await run(["validate", dir]);
    expect(human.err).toContain(`${offersPath}:${segmentLine}:14 error[unknown_segment]`);
    expect(human.err).toMatch(/\|\s+\^+/);
    const out = join(scratch, "broken-build");
    const build = await run(["build", dir, "--out", out]);
    expect(build.code).toBe(1);
    expect(existsSync(join(out, "ruleset.json"))).toBe(false);
  });

  it("builds an artifact the Worker runtime loads, stamped with the validated version", async () => {
    const out = join(scratch, "generated");
    const build = await run(["build", "rules", "--out", out, "--format", "json"]);
    expect(build.code).toBe(0);
    const ir = JSON.parse(readFileSync(join(out, "ruleset.json"), "utf8")) as RulesetIR;
    const validate = JSON.parse((await run(["validate", "rules", "--format", "json"])).out) as {
      version: string;
    };
    expect(ir.version).toBe(validate.version);
    const ruleset = loadRuleset(ir);
    expect(ruleset.offers.map((o) => o.key)[0]).toBe("price_high_value");
    expect(readFileSync(join(out, "ruleset.ts"), "utf8")).toContain(
      `export const rulesetVersion = "${ir.version}"`,
    );
  });

  it("changes version when any rule file changes, not when the directory is named differently", async () => {
    const copy = join(scratch, "copy");
    cpSync("rules", copy, { recursive: true });
    const original = JSON.parse((await run(["validate", "rules", "--format", "json"])).out) as {
      version: string;
    };
    const copied = JSON.parse((await run(["validate", copy, "--format", "json"])).out) as { version: string };
    expect(copied.version).toBe(original.version);
    writeFileSync(
      join(copy, "rewards.yaml"),
      readFileSync(join(copy, "rewards.yaml"), "utf8").replace("USD: $20,", "USD: $25,"),
    );
    const changed = JSON.parse((await run(["validate", copy, "--format", "json"])).out) as {
      version: string;
    };
    expect(changed.version).not.toBe(original.version);
  });

  it("explains a decision with the first failing condition and its actual values", async () => {
    const customer = join(scratch, "customer.yaml");
    writeFileSync(customer, "customer:\n  id: cus_5\n  status: active\n  ltv: $200\n  mrr: $49\n");
    const result = await run([
      "explain",
      "--customer",
      customer,
      "--at",
      "2026-03-03T15:00:00Z",
      "--reason",
      "too_expensive",
      "--dir",
      "rules",
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("price_high_value");
    expect(result.out).toContain("ltv = $200");
    expect(result.out).toContain("offer price_everyone_else: reward ten_off");
    const json = await run([
      "explain",
      "--customer",
      customer,
      "--at",
      "2026-03-03T15:00:00Z",
      "--campaign",
      "spring_winback",
      "--format",
      "json",
    ]);
    const report = JSON.parse(json.out) as {
      campaign: { in_audience: boolean; audience: { failure: { text: string } } };
    };
    expect(report.campaign.in_audience).toBe(false);
    expect(report.campaign.audience.failure.text).toBe('status == "canceled"');
  });

  it("explains one offer alone and says what the whole list would give instead", async () => {
    const customer = join(scratch, "big-spender.yaml");
    writeFileSync(customer, "customer:\n  id: cus_6\n  status: active\n  ltv: $800\n  mrr: $49\n");
    const args = [
      "explain",
      "--customer",
      customer,
      "--at",
      "2026-03-03T15:00:00Z",
      "--reason",
      "too_expensive",
    ];
    const result = await run([...args, "--offer", "price_everyone_else"]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("price_everyone_else alone, as if it were the only offer");
    expect(result.out).toContain("offer price_everyone_else: reward ten_off");
    expect(result.out).toContain(
      "with every offer in priority order the customer gets: offer price_high_value",
    );
    const json = JSON.parse(
      (await run([...args, "--offer", "price_everyone_else", "--format", "json"])).out,
    ) as {
      decision: { offer: { key: string } };
      with_all_offers: { offer: string; reason_code: string };
    };
    expect(json.decision.offer.key).toBe("price_everyone_else");
    expect(json.with_all_offers).toEqual({ offer: "price_high_value", reason_code: "offered" });
  });

  it("previews a message with the offer the rules decide, in the customer's time zone", async () => {
    const customer = join(scratch, "ada.yaml");
    writeFileSync(
      customer,
      // cus_3 is in the price test's `twenty` variant (cus_1 is held out: rules/offers.test.yaml).
      "customer:\n  id: cus_3\n  first_name: Ada\n  status: active\n  ltv: $800\n  mrr: $49\n  timezone: Pacific/Auckland\n",
    );
    const args = [
      "preview",
      "offer_price",
      "--customer",
      customer,
      "--at",
      "2026-03-03T15:00:00Z",
      "--company",
      "Acme",
    ];
    const result = await run([...args, "--offer", "--reason", "too_expensive"]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      "Subject: Ada, here is $20 off to stay\n\nWe hear you: price matters. Take $20 off on us if you stay with\nAcme. The offer is yours until March 18, 2026.\n",
    );
    const none = await run([...args, "--offer", "--reason", "shutting_down"]);
    expect(none.err).toContain("no offer (ineligible)");
  });

  it("names the variables a preview renders empty, and fails on them with --strict", async () => {
    const customer = join(scratch, "bare.yaml");
    writeFileSync(customer, "customer:\n  id: cus_2\n  first_name: Bo\n  status: past_due\n");
    const args = ["preview", "dunning_day_0", "--customer", customer, "--at", "2026-03-03T15:00:00Z"];
    const loose = await run(args);
    expect(loose.code).toBe(0);
    expect(loose.err).toContain("rendered empty: {{ card_last4 }}");
    expect(loose.err).toContain("{{ update_url }}");
    const strict = await run([...args, "--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.out).toBe(loose.out);
    const json = JSON.parse((await run([...args, "--strict", "--format", "json"])).out) as {
      empty_variables: string[];
    };
    expect(json.empty_variables).toEqual(expect.arrayContaining(["card_last4", "update_url"]));
    // Every variable given: nothing to say, and --strict passes.
    const full = join(scratch, "full.yaml");
    writeFileSync(
      full,
      "customer:\n  id: cus_3\n  first_name: Bo\n  status: past_due\n  card_last4: '4242'\n  update_url: https://pay.example.com/u\n  failed_amount: $49\n  failed_invoice_id: in_1\n",
    );
    const clean = await run([
      "preview",
      "dunning_day_0",
      "--customer",
      full,
      "--at",
      "2026-03-03T15:00:00Z",
      "--strict",
    ]);
    expect(clean.err).toBe("");
    expect(clean.code).toBe(0);
  });

  it("tells explain and preview alike that a customer file holding no mapping is wrong", async () => {
    const scalar = join(scratch, "scalar.yaml");
    writeFileSync(scalar, "42\n");
    for (const command of [["explain"], ["preview", "offer_price"]]) {
      const result = await run([...command, "--customer", scalar, "--at", "2026-03-03T15:00:00Z"]);
      expect(result.code).not.toBe(0);
      expect(result.err).toContain(`${scalar}:1:1: customer: expected a mapping`);
    }
  });

  it("explains where a customer stands in dunning, card reminders, inactivity and win-back", async () => {
    const customer = join(scratch, "late.yaml");
    writeFileSync(
      customer,
      "customer:\n  status: past_due\n  payment_failed_at: 8d ago\n  card_expires_at: in 5d\n",
    );
    const result = await run([
      "explain",
      "--customer",
      customer,
      "--at",
      "2026-03-03T15:00:00Z",
      "--format",
      "json",
    ]);
    const report = JSON.parse(result.out) as { programmes: Record<string, unknown> };
    expect(report.programmes).toEqual({
      dunning: { cadence: "standard", days_since_failure: 8, step_day: 7, final: false },
      card_reminders: [30, 7],
      inactivity: [],
      winback: null,
    });
  });

  it("reports a malformed test file at its line instead of running it", async () => {
    const dir = join(scratch, "bad-tests");
    cpSync("rules", dir, { recursive: true });
    writeFileSync(
      join(dir, "broken.test.yaml"),
      [
        "tests:",
        "  - name: misspelt expectation",
        "    customer: { status: active }",
        "    expect: { ofer: none }",
        "  - name: unknown offer",
        "    expect: { offer: { key: price_hihg_value } }",
        "  - name: bad time",
        "    at: next tuesday",
        "    expect: { segments: [] }",
        "",
      ].join("\n"),
    );
    const result = await run(["test", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as {
      ok: boolean;
      diagnostics: { code: string; line: number; column: number; message: string; hint?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ["schema_violation", 4, 15],
      // At the misspelt key itself, not at the case's `name:`.
      ["unknown_offer", 6, 29],
      ["bad_timestamp", 8, 9],
    ]);
    expect(report.diagnostics[0]!.hint).toBe("did you mean `offer`?");
    expect(report.diagnostics[1]!.hint).toBe("did you mean `price_high_value`?");
    expect(report.diagnostics[2]!.message).toContain('"next tuesday"');
  });

  it("runs a case only at a fixed ISO time: `now`, `10d ago`, epoch ms and zoneless times are located errors", async () => {
    const dir = join(scratch, "clock-tests");
    cpSync("rules", dir, { recursive: true });
    const cases: [at: string, line: number, column: number][] = [
      ["now", 3, 9],
      ["10d ago", 6, 9],
      ['"in 3d"', 9, 9],
      ["1772550000000", 12, 9],
      ["2026-03-03T15:00", 15, 9],
      ["2026-02-30", 18, 9],
      ["", 21, 8],
    ];
    const text = [
      "tests:",
      ...cases.flatMap(([at], index) => [
        `  - name: clock ${index}`,
        at === "" ? "    at:" : `    at: ${at}`,
        "    expect: { segments: [] }",
      ]),
      "  - name: a fixed time in another zone still runs",
      "    at: 2026-03-03T16:00:00+01:00",
      "    expect: { dunning: none }",
      "  - { name: a date is UTC midnight, at: 2026-03-03, expect: { dunning: none } }",
      "",
    ].join("\n");
    writeFileSync(join(dir, "clock.test.yaml"), text);
    const result = await run(["test", dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as {
      ok: boolean;
      cases: { file: string; name: string; ok: boolean }[];
      diagnostics: { code: string; file: string; line: number; column: number; message: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual(
      cases.map(([, line, column]) => ["bad_timestamp", line, column]),
    );
    expect(report.diagnostics.every((d) => d.file.endsWith("clock.test.yaml"))).toBe(true);
    expect(report.diagnostics[0]!.message).toContain("depends on when the test runs");
    expect(report.diagnostics[1]!.message).toContain("depends on when the test runs");
    const clockCases = report.cases.filter((c) => c.file.endsWith("clock.test.yaml"));
    expect(clockCases.map((c) => [c.name, c.ok])).toEqual([
      ["a fixed time in another zone still runs", true],
      ["a date is UTC midnight", true],
    ]);

    const human = await run(["test", dir]);
    expect(human.code).toBe(1);
    expect(human.err).toMatch(/clock\.test\.yaml:3:9 error\[bad_timestamp\]/);
  });

  it("has a published test schema that rejects a case at `now` or `10d ago`", () => {
    const schema = JSON.parse(readFileSync("dsl/rules-test.schema.json", "utf8")) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const at = (value: unknown) => validate({ tests: [{ at: value, expect: { segments: [] } }] });
    expect(at("2026-03-03T15:00:00Z")).toBe(true);
    expect(at("2026-03-03")).toBe(true);
    expect(at("now")).toBe(false);
    expect(at("10d ago")).toBe(false);
    expect(at(1772550000000)).toBe(false);
    expect(at("2026-03-03T15:00")).toBe(false);
  });

  it("colours output only on a terminal", async () => {
    const dir = join(scratch, "colour");
    cpSync("rules", dir, { recursive: true });
    writeFileSync(join(dir, "segments.yaml"), "segments:\n  vip: ltvv >= $5\n");
    let tty = "";
    await main(["validate", dir], {
      out: () => {},
      err: (t) => {
        tty += t;
      },
      isTTY: true,
    });
    expect(tty).toContain("\u001b[31merror[unknown_field]");
    const plain = await run(["validate", dir]);
    expect(plain.err).not.toContain("\u001b[");
    expect(plain.err).toContain("error[unknown_field]");
  });

  it("rejects wrong usage with exit code 2 and never crashes on a bad customer file", async () => {
    expect((await run(["explain", "--at", "2026-03-03T15:00:00Z"])).code).toBe(2);
    expect((await run(["validate", join(scratch, "missing-dir")])).code).toBe(2);
    expect((await run(["frobnicate"])).code).toBe(2);
    const bad = join(scratch, "bad-customer.yaml");
    writeFileSync(bad, "customer:\n  ltvv: $200\n");
    const result = await run(["explain", "--customer", bad, "--at", "2026-03-03T15:00:00Z"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("did you mean `ltv`?");
    for (const [text, message] of [
      ["customer:\n  ltv: 800 XYZ\n", "unknown currency `XYZ`"],
      ["customer: [1, 2\n", "Flow sequence"],
      ["customer:\n  status: 5\n", "customer.status: expected text"],
      ["customer:\n  canceled_at: yesterday\n", '"yesterday" is not a time'],
    ] as const) {
      writeFileSync(bad, text);
      const outcome = await run(["explain", "--customer", bad, "--at", "2026-03-03T15:00:00Z"]);
      expect(outcome.code, text).toBe(2);
      expect(outcome.err, text).toContain(message);
    }
  });

  it("reads --at now and relative --at values from the real clock, and blames --at, not the file", async () => {
    const customer = join(scratch, "clock.yaml");
    writeFileSync(customer, "customer:\n  id: cus_7\n  status: active\n");
    const atOf = async (at: string) => {
      const outcome = await run(["explain", "--customer", customer, "--at", at, "--format", "json"]);
      return Date.parse((JSON.parse(outcome.out) as { at: string }).at);
    };
    const before = Date.now();
    const now = await atOf("now");
    const tenDaysAgo = await atOf("10d ago");
    const after = Date.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(after);
    expect(tenDaysAgo).toBeGreaterThanOrEqual(before - 10 * 86_400_000);
    expect(tenDaysAgo).toBeLessThanOrEqual(after - 10 * 86_400_000);
    const bad = await run(["explain", "--customer", customer, "--at", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--at: "yesterday" is not a time');
    expect(bad.err).not.toContain("clock.yaml");
  });
});
