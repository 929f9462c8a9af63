// Time zones and quiet hours in Node: the shared specification in timezone.cases.yaml.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { localParts } from "../../dsl/time/wall-clock";
import { canonicalTimeZone } from "../../dsl/time/zones";
import { timezoneSuite } from "./schedule-suites";

timezoneSuite(readFileSync(new URL("./timezone.cases.yaml", import.meta.url), "utf8"));

describe("the time zone API", () => {
  it("spells a zone the runtime's canonical way", () => {
    expect(canonicalTimeZone("america/new_york")).toBe("America/New_York");
  });

  it("rejects an instant that is not a finite number", () => {
    expect(() => localParts(Number.NaN, "UTC")).toThrow(RangeError);
    expect(() => localParts(Number.POSITIVE_INFINITY, "UTC")).toThrow(RangeError);
  });
});
