/**
 * How the OpenAPI document says who may call an operation: the bearer API key with the scope the
 * route needs (worker/auth/keys.ts), nothing for public routes, and the billing providers' own
 * signatures for their webhooks (scope `provider`, worker/providers/verify.ts).
 */
import type { RouteDef } from "../app-env";

export const SECURITY_SCHEMES: Readonly<Record<string, unknown>> = {
  apiKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "rbk_…",
    description:
      "An API key: `Authorization: Bearer rbk_…`. Keys carry scopes (`events:write`, `decisions:read`, `metrics:read`, `admin`; `admin` includes the others); each operation's `x-rebound-scope` names the one it needs, and a key without it gets 403 `forbidden`. Create keys with `POST /v1/admin/api-keys`.",
  },
  stripeSignature: {
    type: "apiKey",
    in: "header",
    name: "Stripe-Signature",
    description:
      "Stripe's signature of the raw body with the endpoint's signing secret (`STRIPE_WEBHOOK_SECRET`).",
  },
  paddleSignature: {
    type: "apiKey",
    in: "header",
    name: "Paddle-Signature",
    description: "Paddle's signature of the raw body with the notification secret (`PADDLE_WEBHOOK_SECRET`).",
  },
  chargebeeBasicAuth: {
    type: "http",
    scheme: "basic",
    description:
      "The basic-auth credentials configured on the Chargebee webhook (`CHARGEBEE_WEBHOOK_USERNAME`/`_PASSWORD`).",
  },
};

/** The operation's security requirement. */
export function securityOf(route: RouteDef): Record<string, string[]>[] {
  if (route.scope === "public") return [];
  if (route.scope === "provider") return (route.doc?.security ?? []).map((name) => ({ [name]: [] }));
  return [{ apiKey: [] }];
}
