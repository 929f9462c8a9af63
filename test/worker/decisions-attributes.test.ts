// Request attributes are merged into the profile for one decision. A name the rules do not declare,
// or a value of the wrong type, would read as missing and quietly turn the answer into "no offer":
// each is refused with its path and what the rules expect (rules/settings.yaml `fields:`). A
// timestamp attribute is epoch milliseconds or ISO 8601 with a UTC offset, as in ingest, and the
// decision uses (and records) epoch milliseconds, which is what the rules read.
import { describe, expect, it } from "vitest";
import { decide, payingCustomer, storedDecisions, useDecisionKeys } from "./decision-fixtures";
import { call } from "./helpers";

const keys = useDecisionKeys();

function detailsByPath(body: { error: { details: { path: string; message: string }[] } }) {
  return Object.fromEntries(body.error.details.map((detail) => [detail.path, detail.message]));
}

const TIME_MESSAGE =
  "must be a time: epoch milliseconds, or ISO 8601 with a UTC offset such as 2026-03-01T09:30:00Z (declared timestamp)";

describe("decision request attributes", () => {
  it("refuses undeclared names and values of the wrong type, listing each, and stores nothing", async () => {
    await payingCustomer(keys.writer, "attrs-bad");
    const result = await decide("attrs-bad", "in_app", {
      key: keys.admin,
      attributes: {
        seats: "twelve",
        company_size: "huge",
        onboarded_at: "yesterday",
        seets: 3,
      },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("validation_failed");
    const details = detailsByPath(result.body);
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
    expect(details["/attributes/onboarded_at"]).toBe(TIME_MESSAGE);
    expect(details["/attributes/seets"]).toBe(
      "is not an attribute the rules declare; declared: seats, company_size, onboarded_at",
    );
    expect(await storedDecisions("attrs-bad")).toBe(0);
  });

  it("accepts declared attributes of the right type, and null to leave one out", async () => {
    await payingCustomer(keys.writer, "attrs-good", { attributes: { seats: 3 } });
    const result = await decide("attrs-good", "in_app", {
      key: keys.admin,
      attributes: { seats: null, company_size: "mid", onboarded_at: Date.parse("2026-01-05T00:00:00Z") },
    });
    expect(result.status).toBe(200);
  });

  it("takes a timestamp as ISO 8601 with an offset and decides with it in epoch milliseconds", async () => {
    await payingCustomer(keys.writer, "attrs-iso");
    const result = await decide("attrs-iso", "in_app", {
      key: keys.admin,
      attributes: { onboarded_at: "2026-01-05T09:30:00+01:00" },
    });
    expect(result.status).toBe(200);
    const stored = await call(`/v1/decisions/${result.body.decision_id}`, { key: keys.admin });
    expect(stored.status).toBe(200);
    expect(stored.body.inputs.request.attributes).toEqual({
      onboarded_at: Date.parse("2026-01-05T08:30:00Z"),
    });
  });

  it("refuses a timestamp without a UTC offset or on a day that does not exist", async () => {
    await payingCustomer(keys.writer, "attrs-iso-bad");
    for (const text of ["2026-01-05T09:30:00", "2026-02-30T00:00:00Z", "2026-01-05", "1.5e12"]) {
      const result = await decide("attrs-iso-bad", "in_app", {
        key: keys.admin,
        attributes: { onboarded_at: text },
      });
      expect(result.status).toBe(400);
      expect(detailsByPath(result.body)).toEqual({ "/attributes/onboarded_at": TIME_MESSAGE });
    }
    const fraction = await decide("attrs-iso-bad", "in_app", {
      key: keys.admin,
      attributes: { onboarded_at: 1.5 },
    });
    expect(detailsByPath(fraction.body)).toEqual({ "/attributes/onboarded_at": TIME_MESSAGE });
    expect(await storedDecisions("attrs-iso-bad")).toBe(0);
  });

  it("points a malformed attribute name at the name and says what a name may be", async () => {
    await payingCustomer(keys.writer, "attrs-name");
    const result = await decide("attrs-name", "in_app", { key: keys.admin, attributes: { "bad-name": 1 } });
    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([
      {
        path: "/attributes/bad-name",
        message: "is not a valid attribute name: a letter or _, then up to 63 letters, digits or _",
      },
    ]);
    expect(await storedDecisions("attrs-name")).toBe(0);
  });
});
