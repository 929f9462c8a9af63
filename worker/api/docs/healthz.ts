/**
 * OpenAPI documentation of worker/api/routes/healthz.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const healthDoc: RouteDoc = {
  summary: "Check that the Worker runs",
  tag: "Health",
  description:
    "Liveness for load balancers and deploy checks. Also says what is running: the ruleset version (`rebound build`'s sha256 of the rules) and the last D1 migration applied. Nothing secret. A sharded deployment (docs/scaling.md) lists every shard's migration and answers 503 with the same body and `ok: false` when a shard is unbound or behind.",
  response: {
    status: 200,
    description: "The Worker is up.",
    schema: {
      type: "object",
      required: ["ok", "ruleset_version", "last_migration"],
      properties: {
        ok: {
          type: "boolean",
        },
        ruleset_version: {
          type: "string",
        },
        last_migration: {
          type: ["string", "null"],
        },
        shards: {
          type: "array",
          description:
            "Sharded deployments only (docs/scaling.md): each customer database's binding and last migration. A shard unbound or behind `DB` makes the answer 503 with `ok: false`.",
          items: {
            type: "object",
            required: ["binding", "bound", "last_migration"],
            properties: {
              binding: { type: "string" },
              bound: { type: "boolean" },
              last_migration: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    example: {
      ok: true,
      ruleset_version: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
      last_migration: "0008_metrics.sql",
    },
  },
  errors: [],
};
