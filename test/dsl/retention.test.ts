// settings.event_retention: raw events older than it are archived, so a rule may read only windows
// that fit in it; a longer or all-time aggregate is a located error at validate time.
import { describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";

function check(retention: string | null, when: string) {
  const settings =
    retention === null
      ? "settings: { currency: USD }"
      : `settings: { currency: USD, event_retention: ${retention} }`;
  const text = `${settings}\nsegments:\n  busy:\n    when: ${when}\n`;
  return checkRuleset([{ path: "rules/r.yaml", text }]);
}

describe("event windows against the retention", () => {
  it("accepts windows up to the retention and records it in the ruleset", () => {
    const result = check("90d", "count(activity, 90d) > 3 and sum(order.completed.amount, 30d) > $10");
    expect(result.diagnostics).toEqual([]);
    expect(result.ruleset?.eventRetentionMs).toBe(90 * 86_400_000);
  });

  it("points at a window longer than the retention", () => {
    const result = check("90d", "count(activity, 30d) > 3 or count(activity, 91d) > 9");
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        code: "window_beyond_retention",
        file: "rules/r.yaml",
        line: 4,
        column: 55, // the `91d`
        message: "this window is longer than the 90 days raw events are kept (settings.event_retention)",
      }),
    ]);
  });

  it("points at an all-time aggregate, which would read archived events", () => {
    const result = check("30d", "last(nps.submitted.score) >= 9");
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ code: "window_beyond_retention", line: 4, column: 11 }),
    ]);
    expect(result.diagnostics[0]!.message).toContain("without a window reads all of a customer's events");
  });

  it("allows all-time aggregates when raw events are kept forever", () => {
    expect(check(null, "count(activity) > 3").diagnostics).toEqual([]);
    expect(check(null, "count(activity) > 3").ruleset?.eventRetentionMs).toBeNull();
  });

  it("refuses a retention shorter than a day", () => {
    expect(check("12h", "count(activity, 1h) > 3").diagnostics).toEqual([
      expect.objectContaining({ code: "bad_duration", message: "`event_retention` must be at least 1d" }),
    ]);
  });
});
