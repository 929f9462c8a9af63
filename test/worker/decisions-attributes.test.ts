// Request attributes are merged into the profile for one decision. A name the rules do not declare,
// or a value of the wrong type, would read as missing and quietly turn the answer into "no offer":
// each is refused with its path and what the rules expect (rules/settings.yaml `fields:`).
import { beforeAll, describe, expect, it } from "vitest";
import { decide, decisionKeys, payingCustomer, storedDecisions } from "./decision-fixtures";

let writer: string;
let admin: string;
beforeAll(async () => {
  ({ writer, admin } = await decisionKeys());
});

describe("decision request attributes", () => {
  it("refuses undeclared names and values of the wrong type, listing each, and stores nothing", async () => {
    await payingCustomer(writer, "attrs-bad");
    const result = await decide("attrs-bad", "in_app", {
      key: admin,
      attributes: {
        seats: "twelve",
        company_size: "huge",
        onboarded_at: "yesterday",
        seets: 3,
      },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("validation_failed");
    const details = Object.fromEntries(
      result.body.error.details.map((detail: { path: string; message: string }) => [
        detail.path,
        detail.message,
      ]),
    );
    expect(Object.keys(details).sort()).toEqual([
      "/attributes/company_size",
      "/attributes/onboarded_at",
      "/attributes/seats",
      "/attributes/seets",
    ]);
    expect(details["/attributes/seats"]).toBe("must be a number (declared number)");
    expect(details["/attributes/company_size"]).toBe(
      "must be one of solo, small, mid, large (declared enum(solo, small, mid, large))",
    );
    expect(details["/attributes/onboarded_at"]).toBe(
      "must be a time in epoch milliseconds (declared timestamp)",
    );
    expect(details["/attributes/seets"]).toBe(
      "is not an attribute the rules declare; declared: seats, company_size, onboarded_at",
    );
    expect(await storedDecisions("attrs-bad")).toBe(0);
  });

  it("accepts declared attributes of the right type, and null to leave one out", async () => {
    await payingCustomer(writer, "attrs-good", { attributes: { seats: 3 } });
    const result = await decide("attrs-good", "in_app", {
      key: admin,
      attributes: { seats: null, company_size: "mid", onboarded_at: Date.parse("2026-01-05T00:00:00Z") },
    });
    expect(result.status).toBe(200);
  });
});
