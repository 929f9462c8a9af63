// The CI recipe's script (scripts/rules-ci.sh), run as GitHub Actions runs it, on a copy of the
// rules with the changes a marketer makes. The plan stage against a running Worker is in
// rules-ci-plan-wrangler-dev.test.ts.
import { describe, expect, it } from "vitest";
import { rulesCi, rulesCopy } from "./rules-ci-run";

describe("scripts/rules-ci.sh", () => {
  it("passes validate and test on the rules as they ship", async () => {
    const rules = rulesCopy();
    const validate = await rulesCi(["validate", rules]);
    expect(validate.status).toBe(0);
    expect(validate.stdout).toMatch(/^ok /m);
    const tested = await rulesCi(["test", rules]);
    expect(tested.status).toBe(0);
    expect(tested.stdout).toMatch(/\d+ passed, 0 failed/);
  });

  it("fails validate on a misspelt reward, pointing at the file, line and column", async () => {
    const rules = rulesCopy("offers.yaml", (text) =>
      text.replace("reward: twenty_off", "reward: fiftteen_percent_off"),
    );
    const validate = await rulesCi(["validate", rules]);
    expect(validate.status).toBe(1);
    const output = validate.stdout + validate.stderr;
    expect(output).toMatch(/rules\/offers\.yaml:\d+:13 error\[unknown_reward\]/);
  });

  it("passes validate but fails test when the dunning cadence changes under the rule tests", async () => {
    // The change: reminders on days 0, 2, 5, 10 instead of 0, 3, 7, 14.
    const rules = rulesCopy("dunning.yaml", (text) =>
      text
        .replace("{ day: 3, message: dunning_day_3 }", "{ day: 2, message: dunning_day_3 }")
        .replace("{ day: 7, message: dunning_day_7 }", "{ day: 5, message: dunning_day_7 }")
        .replace("{ day: 14, message: dunning_day_14 }", "{ day: 10, message: dunning_day_14 }"),
    );
    expect((await rulesCi(["validate", rules])).status).toBe(0);
    const tested = await rulesCi(["test", rules]);
    expect(tested.status).not.toBe(0);
    expect(tested.stdout).toMatch(
      /^FAIL on day three the second reminder is due .*dunning\.test\.yaml:\d+$/m,
    );
    expect(tested.stdout).toMatch(/[1-9]\d* failed/);
  });

  it("refuses the plan stage without the production URL and key, before calling anything", async () => {
    const planned = await rulesCi(["plan", rulesCopy()], { REBOUND_URL: "", REBOUND_ADMIN_KEY: "" });
    expect(planned.status).not.toBe(0);
    expect(planned.stderr).toContain("set REBOUND_URL");
  });

  it("names its stages when called with another", async () => {
    const wrong = await rulesCi(["publish"]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain("validate|test|plan");
    // An argument a stage does not take, or a rules directory that is not there: usage, not bash.
    const extra = await rulesCi(["deploy", "extra"]);
    expect(extra.status).toBe(2);
    expect(extra.stderr).toContain("usage: scripts/rules-ci.sh");
    const missing = await rulesCi(["plan", "./no-such-rules"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("./no-such-rules is not a directory of rules");
    expect(missing.stderr).not.toContain("No such file or directory");
  });
});
