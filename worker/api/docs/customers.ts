/**
 * OpenAPI documentation of worker/api/routes/customers.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { JsonSchema, RouteDoc } from "../app-env";
import { CUSTOMER_PATH } from "./shared";

/** The profile's timestamp columns (epoch ms in D1, ISO 8601 in GET /v1/customers/:id). */
const PROFILE_TIMES = [
  "signed_up_at",
  "canceled_at",
  "reactivated_at",
  "last_active_at",
  "payment_failed_at",
  "card_expires_at",
] as const;

/**
 * A customer's profile as worker/db/customer-record.ts reads it (docs/data-model.md): `iso` as the
 * profile route answers it, `epoch_ms` as the privacy export holds the row.
 */
export function profileSchema(times: "iso" | "epoch_ms"): JsonSchema {
  const time = (nullable: boolean) =>
    times === "iso"
      ? { type: nullable ? ["string", "null"] : "string", format: "date-time" }
      : { type: nullable ? ["integer", "null"] : "integer", description: "Epoch milliseconds." };
  const text = { type: ["string", "null"] };
  const count = { type: "integer" };
  const amount = { type: ["integer", "null"] };
  const properties: Record<string, JsonSchema> = {
    id: { type: "string" },
    email: text,
    first_name: text,
    country: text,
    timezone: text,
    plan: text,
    mrr: { ...amount, description: "Monthly recurring revenue in minor units of `currency`." },
    currency: text,
    status: { enum: ["lead", "active", "past_due", "canceled"] },
    churn_reason: text,
    churn_comment: text,
    ltv: { ...count, description: "Lifetime value paid, in minor units." },
    order_count: count,
    order_total: count,
    aov: amount,
    referrals: count,
    nps: amount,
    open_tickets: count,
    last_ticket_satisfied: {
      type: ["integer", "null"],
      description: "1 satisfied, 0 not, null never asked.",
    },
    failed_invoice_id: text,
    failed_amount: amount,
    decline_code: text,
    card_last4: text,
    update_url: text,
    attributes: {
      type: "object",
      description: "Custom attributes the rules declare (`fields:` in rules/settings.yaml).",
      additionalProperties: { type: ["string", "number", "boolean"] },
    },
    first_seen_at: time(false),
    last_event_at: time(false),
  };
  for (const column of PROFILE_TIMES) properties[column] = time(true);
  return { type: "object", required: Object.keys(properties), properties };
}

export const getCustomerDoc: RouteDoc = {
  summary: "Read a customer's profile",
  tag: "Customers",
  description:
    "The profile ingest keeps for a customer: its fields, aggregates and custom attributes, timestamps as ISO 8601.",
  pathParams: CUSTOMER_PATH,
  response: {
    status: 200,
    description: "The profile.",
    schema: {
      type: "object",
      required: ["customer"],
      properties: {
        customer: profileSchema("iso"),
      },
    },
    example: {
      customer: {
        id: "demo-0001",
        email: "lars.0001@example.com",
        first_name: "Lars",
        country: "DE",
        timezone: "Europe/Berlin",
        plan: null,
        mrr: null,
        currency: null,
        status: "lead",
        signed_up_at: null,
        canceled_at: null,
        churn_reason: null,
        churn_comment: null,
        reactivated_at: null,
        last_active_at: "2026-06-30T03:37:10.885Z",
        ltv: 0,
        order_count: 0,
        order_total: 0,
        aov: null,
        referrals: 0,
        nps: null,
        open_tickets: 0,
        last_ticket_satisfied: null,
        payment_failed_at: null,
        failed_invoice_id: null,
        failed_amount: null,
        decline_code: null,
        card_last4: null,
        update_url: null,
        card_expires_at: null,
        attributes: {
          channel: "ads",
          company_size: "large",
        },
        first_seen_at: "2026-06-27T06:59:52.097Z",
        last_event_at: "2026-06-30T03:37:10.885Z",
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "The id is not a valid id (`path:id`).",
    },
    {
      status: 404,
      code: "customer_not_found",
      when: "No event was ever received for this customer.",
    },
  ],
};
