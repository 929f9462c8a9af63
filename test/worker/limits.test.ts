// The JSON Schemas cannot import REQUEST_LIMITS: this keeps the numbers they repeat in step with it.
import { expect, it } from "vitest";
import { ID_SCHEMA_REF } from "../../worker/api/identifiers";
import decisionSchema from "../../worker/api/schemas/decision-request.schema.json";
import eventSchema from "../../worker/api/schemas/event.schema.json";
import batchSchema from "../../worker/api/schemas/event-batch.schema.json";
import idSchema from "../../worker/api/schemas/id.schema.json";
import { REQUEST_LIMITS } from "../../worker/limits";

it("uses the same limits in the schemas as in worker/limits.ts", () => {
  expect(batchSchema.properties.events.maxItems).toBe(REQUEST_LIMITS.maxEventsPerBatch);
  // Every id a body carries follows the one id rule, whose length limit is REQUEST_LIMITS'.
  expect(idSchema.maxLength).toBe(REQUEST_LIMITS.maxIdLength);
  expect(eventSchema.properties.id.$ref).toBe(ID_SCHEMA_REF);
  expect(eventSchema.properties.customer_id.$ref).toBe(ID_SCHEMA_REF);
  expect(decisionSchema.properties.customer_id.$ref).toBe(ID_SCHEMA_REF);
  const updated = eventSchema.allOf.find((branch) => branch.if.properties.type.const === "customer.updated");
  const attributes = updated?.then.properties.properties as {
    properties: { attributes: { maxProperties: number } };
  };
  expect(attributes.properties.attributes.maxProperties).toBe(REQUEST_LIMITS.maxAttributes);
  // A decision request merges at most as many attributes as an event may carry.
  expect(decisionSchema.properties.attributes.maxProperties).toBe(REQUEST_LIMITS.maxAttributes);
  // JSON Schema has no depth keyword: the schema states the depth limit the Worker enforces.
  expect(eventSchema.properties.properties.$comment).toContain(
    `nest at most ${REQUEST_LIMITS.maxPropertiesDepth} levels`,
  );
});

it("checks every id a request body carries by the one id rule", () => {
  const idProperties: { name: string; schema: unknown }[] = [];
  const walk = (node: unknown): void => {
    if (typeof node !== "object" || node === null) return;
    const { properties } = node as { properties?: unknown };
    if (typeof properties === "object" && properties !== null) {
      for (const [name, schema] of Object.entries(properties)) {
        if (name === "id" || name.endsWith("_id")) idProperties.push({ name, schema });
      }
    }
    Object.values(node).forEach(walk);
  };
  walk([eventSchema, decisionSchema]);
  expect(idProperties.map((property) => property.name).sort()).toEqual([
    "customer_id",
    "customer_id",
    "id",
    "invoice_id",
    "invoice_id",
    "referred_customer_id",
  ]);
  for (const property of idProperties) expect(property.schema).toEqual({ $ref: ID_SCHEMA_REF });
});
