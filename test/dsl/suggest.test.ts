// One "did you mean" for the whole language: rule keys, fields, event types, zones and CLI names
// are recognised as typos by the same distance and threshold.
import { describe, expect, it } from "vitest";
import { closest, editDistance } from "../../dsl/suggest";
import { checkTimeZone } from "../../dsl/time/zones";

describe("closest", () => {
  it("finds the reward a marketer misspelt", () => {
    expect(closest("fiftteen_percent_off", ["free_month", "fifteen_percent_off"])).toBe(
      "fifteen_percent_off",
    );
  });

  it("ignores case but answers with the candidate's own spelling", () => {
    expect(closest("Europe/london", ["Europe/London", "Europe/Lisbon"])).toBe("Europe/London");
  });

  it("allows max(2, a third of the word's length) edits and no more", () => {
    expect(closest("abcdef", ["abxxef"])).toBe("abxxef"); // 2 edits, 6 letters
    expect(closest("abcdef", ["axxxef"])).toBeUndefined(); // 3 edits
    expect(closest("abcdefghi", ["axxxefghi"])).toBe("axxxefghi"); // 3 edits, 9 letters
    expect(closest("ltv", ["mrr"])).toBeUndefined();
  });

  it("prefers the nearer candidate, and the earlier one on a tie", () => {
    expect(closest("plann", ["plans", "plan"])).toBe("plans");
    expect(closest("cat", ["bat", "cap"])).toBe("bat");
  });
});

describe("editDistance", () => {
  it("is Levenshtein distance, stopping at the cap", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting", 2)).toBe(2);
  });
});

describe("time zone hints", () => {
  it("use the same threshold as every other hint", () => {
    const diagnostics = checkTimeZone("America/New_Yrok");
    expect(diagnostics[0]?.hint).toContain("America/New_York");
  });
});
