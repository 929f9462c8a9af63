// What the rules tell the metrics: `settings.metrics` (the reports' zone and the win-back window)
// and a campaign's `conversion` (the event that counts and its attribution window), with their
// defaults, their compiled values on the runtime ruleset, and located errors for mistakes.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { buildScope } from "../../dsl/expr/fields";
import { checkRuleset } from "../../dsl/rules/check";
import { loadRuleset } from "../../dsl/runtime/ruleset";

const DAY = 86_400_000;

function check(text: string) {
  return checkRuleset([{ path: "rules/r.yaml", text }]);
}

function campaign(conversion: string | null): string {
  return [
    "messages:",
    "  plain_note:",
    "    body: Hello",
    "campaigns:",
    "  spring:",
    '    schedule: "0 10 * * TUE"',
    "    timezone: America/New_York",
    '    audience: status == "canceled"',
    "    steps: [{ message: plain_note }]",
    ...(conversion === null ? [] : [`    conversion: ${conversion}`]),
    "",
  ].join("\n");
}

function located(text: string) {
  return check(text).diagnostics.map((d) => ({ code: d.code, line: d.line, column: d.column, hint: d.hint }));
}

describe("settings.metrics", () => {
  it("defaults to the default time zone and a 90-day win-back window", () => {
    const result = check("settings:\n  default_timezone: Europe/Berlin\n");
    expect(result.diagnostics).toEqual([]);
    expect(result.ruleset?.metrics).toEqual({ timezone: "Europe/Berlin", winbackWindowMs: 90 * DAY });
    const ruleset = loadRuleset(result.ruleset!);
    expect(ruleset.metricsTimezone).toBe("Europe/Berlin");
    expect(ruleset.winbackWindowMs).toBe(90 * DAY);
  });

  it("defaults to UTC when the rules have no settings at all", () => {
    expect(check(campaign(null)).ruleset?.metrics).toEqual({ timezone: "UTC", winbackWindowMs: 90 * DAY });
  });

  it("compiles a zone and a window of its own", () => {
    const result = check(
      "settings:\n  default_timezone: Europe/Berlin\n  metrics: { timezone: Asia/Tokyo, winback_window: 2w }\n",
    );
    expect(result.diagnostics).toEqual([]);
    const ruleset = loadRuleset(result.ruleset!);
    expect(ruleset.metricsTimezone).toBe("Asia/Tokyo");
    expect(ruleset.winbackWindowMs).toBe(14 * DAY);
  });

  it("accepts `customer` for each customer's own zone", () => {
    const result = check("settings:\n  metrics:\n    timezone: customer\n");
    expect(result.diagnostics).toEqual([]);
    expect(loadRuleset(result.ruleset!).metricsTimezone).toBe("customer");
  });

  it("points at an unknown zone with the zone it probably means", () => {
    expect(located("settings:\n  metrics:\n    timezone: Europe/Berln\n")).toEqual([
      { code: "unknown_timezone", line: 3, column: 15, hint: "did you mean `Europe/Berlin`?" },
    ]);
  });

  it("points at a window that is not a positive duration", () => {
    for (const window of ["90", "0d", "ninety days"]) {
      expect(located(`settings:\n  metrics:\n    winback_window: ${window}\n`), window).toEqual([
        expect.objectContaining({ code: "bad_duration", line: 3, column: 21 }),
      ]);
    }
  });

  it("points at an unknown key and at a metrics section that is not a mapping", () => {
    expect(located("settings:\n  metrics:\n    time_zone: UTC\n")).toEqual([
      { code: "schema_violation", line: 3, column: 5, hint: "did you mean `timezone`?" },
    ]);
    expect(located("settings:\n  metrics: UTC\n")).toEqual([
      expect.objectContaining({ code: "schema_violation", line: 2, column: 12 }),
    ]);
  });
});

describe("a campaign's conversion", () => {
  it("is null when the campaign does not set one", () => {
    const result = check(campaign(null));
    expect(result.diagnostics).toEqual([]);
    expect(result.ruleset?.campaigns[0]?.conversion).toBeNull();
    expect(loadRuleset(result.ruleset!).campaigns.get("spring")?.ir.conversion).toBeNull();
  });

  it("compiles the event and the window, as written and in ms", () => {
    const result = check(campaign("{ event: subscription.reactivated, within: 14d }"));
    expect(result.diagnostics).toEqual([]);
    expect(loadRuleset(result.ruleset!).campaigns.get("spring")?.ir.conversion).toEqual({
      event: "subscription.reactivated",
      within: "14d",
      withinMs: 14 * DAY,
    });
  });

  it("accepts every built-in event type, custom `x.` types, and a window of up to a year", () => {
    const builtins = [...buildScope({ defaultCurrency: "USD" }).eventTypes.keys()];
    for (const event of [...builtins, "x.trial_converted", "x.plan.upgraded"]) {
      const result = check(campaign(`{ event: ${event}, within: 365d }`));
      expect(result.diagnostics, event).toEqual([]);
      expect(result.ruleset?.campaigns[0]?.conversion?.event).toBe(event);
    }
  });

  it("points at a misspelt event type with the type it probably means", () => {
    expect(located(campaign("{ event: payment.succeded, within: 7d }"))).toEqual([
      { code: "unknown_event_type", line: 10, column: 26, hint: "did you mean `payment.succeeded`?" },
    ]);
    expect(located(campaign("{ event: upgraded, within: 7d }"))).toEqual([
      { code: "unknown_event_type", line: 10, column: 26, hint: "custom events are named x.<name>" },
    ]);
  });

  it("points at a window that is not a duration, is zero, or is longer than a year", () => {
    for (const within of ["14", "0d", "366d", "53w"]) {
      expect(located(campaign(`{ event: order.completed, within: ${within} }`)), within).toEqual([
        expect.objectContaining({ code: "bad_duration", line: 10, column: 51 }),
      ]);
    }
  });

  it("needs both the event and the window, and knows no other key", () => {
    expect(located(campaign("{ event: order.completed }"))).toEqual([
      expect.objectContaining({ code: "schema_violation", line: 10, column: 17 }),
    ]);
    expect(located(campaign("{ event: order.completed, within: 7d, attribution: last_touch }"))).toEqual([
      { code: "schema_violation", line: 10, column: 55, hint: "allowed: event, within" },
    ]);
  });
});

describe("the editor schema", () => {
  const schema = JSON.parse(readFileSync("dsl/rules.schema.json", "utf8")) as {
    definitions: { eventType: object };
  };
  const validate = new Ajv({ strict: false }).compile(schema);

  it("accepts exactly the conversion events the checker accepts", () => {
    const eventType = new Ajv({ strict: false }).compile(schema.definitions.eventType);
    const builtins = [...buildScope({ defaultCurrency: "USD" }).eventTypes.keys()];
    const refused = ["subscription.reactivate", "upgraded", "x.", "x._hidden", `x.${"a".repeat(65)}`];
    for (const event of [...builtins, "x.trial_converted", "x.plan.upgraded", ...refused]) {
      const byChecker = check(campaign(`{ event: "${event}", within: 7d }`)).diagnostics.length === 0;
      expect(byChecker, event).toBe(!refused.includes(event));
      expect(eventType(event), event).toBe(byChecker);
    }
  });

  it("accepts the metrics settings and a conversion, and refuses unknown keys in them", () => {
    const accepted = {
      settings: { metrics: { timezone: "customer", winback_window: "90d" } },
      campaigns: {
        spring: {
          schedule: "0 10 * * TUE",
          timezone: "UTC",
          audience: "true",
          steps: [{ message: "plain_note" }],
          conversion: { event: "subscription.reactivated", within: "14d" },
        },
      },
    };
    expect(validate(accepted), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ settings: { metrics: { window: "90d" } } })).toBe(false);
    const withoutWithin = structuredClone(accepted);
    delete (withoutWithin.campaigns.spring.conversion as { within?: string }).within;
    expect(validate(withoutWithin)).toBe(false);
  });
});
