// The JSON Schemas cannot import REQUEST_LIMITS: this keeps the numbers they repeat in step with it.
import { expect, it } from "vitest";
import decisionSchema from "../../worker/api/schemas/decision-request.schema.json";
import eventSchema from "../../worker/api/schemas/event.schema.json";
import batchSchema from "../../worker/api/schemas/event-batch.schema.json";
import { REQUEST_LIMITS } from "../../worker/limits";

it("uses the same limits in the schemas as in worker/limits.ts", () => {
  expect(batchSchema.properties.events.maxItems).toBe(REQUEST_LIMITS.maxEventsPerBatch);
  expect(eventSchema.properties.id.maxLength).toBe(REQUEST_LIMITS.maxIdLength);
  expect(eventSchema.properties.customer_id.maxLength).toBe(REQUEST_LIMITS.maxIdLength);
  const updated = eventSchema.allOf.find((branch) => branch.if.properties.type.const === "customer.updated");
  const attributes = updated?.then.properties.properties as {
    properties: { attributes: { maxProperties: number } };
  };
  expect(attributes.properties.attributes.maxProperties).toBe(REQUEST_LIMITS.maxAttributes);
  // A decision request merges at most as many attributes as an event may carry.
  expect(decisionSchema.properties.attributes.maxProperties).toBe(REQUEST_LIMITS.maxAttributes);
});
