/**
 * OpenAPI documentation of worker/api/routes/api-keys.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";
import { objectOf, STRING, TIME, TIME_OR_NULL } from "./shared";

/** A key as `keyView` answers it: never the secret, only its visible prefix. */
const API_KEY_FIELDS = {
  id: STRING,
  name: STRING,
  prefix: STRING,
  scopes: { type: "array", items: STRING },
  created_at: TIME,
  revoked_at: TIME_OR_NULL,
} as const;

/** The key the examples follow, as listed. */
const API_KEY_EXAMPLE = {
  id: "key_a39221bd38e24c42",
  name: "app",
  prefix: "rbk_E7tiLk",
  scopes: ["decisions:read"],
  created_at: "2026-12-04T17:47:50.854Z",
  revoked_at: null,
};

export const createKeyDoc: RouteDoc = {
  summary: "Create an API key",
  tag: "Admin",
  description:
    "Creates a key with the given scopes. The secret (`key`) is in this answer only: it is stored as a SHA-256 hash and cannot be shown again. On a sharded deployment the key is stored on every customer database; if one fails the answer is a 500 and no key is created (send the request again).",
  requestBody: {
    schema: { $ref: "https://rebound.dev/schemas/api-key-create.json" },
    example: { name: "web app", scopes: ["decisions:read"] },
  },
  response: {
    status: 201,
    description: "The new key, with its secret.",
    schema: objectOf({
      api_key: objectOf({ ...API_KEY_FIELDS, key: { ...STRING, description: "The secret: shown once." } }),
    }),
    example: {
      api_key: {
        ...API_KEY_EXAMPLE,
        key: "rbk_E7tiLk0ERojTMs24gJ4lx6G4clupx6aTx4ipCwr3Mos",
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "The name or scopes break the schema.",
    },
  ],
};

export const listKeysDoc: RouteDoc = {
  summary: "List API keys",
  tag: "Admin",
  description:
    "Every key, oldest first, revoked ones included. Secrets are never listed, only their visible prefix.",
  response: {
    status: 200,
    description: "The keys.",
    schema: objectOf({
      api_keys: {
        type: "array",
        items: objectOf(API_KEY_FIELDS),
      },
    }),
    example: {
      api_keys: [API_KEY_EXAMPLE],
    },
  },
  errors: [],
};

export const revokeKeyDoc: RouteDoc = {
  summary: "Revoke an API key",
  tag: "Admin",
  description:
    "Revokes the key at once. Idempotent: revoking a revoked key answers it unchanged. On a sharded deployment the key is revoked on every customer database; if one fails the answer is a 500 and the key stays listed as live: send the request again.",
  pathParams: {
    id: {
      description: "The key's id (`key_…`).",
      schema: STRING,
      example: "key_4f2a9c1d7e3b8a60",
    },
  },
  response: {
    status: 200,
    description: "The revoked key.",
    schema: objectOf({
      api_key: objectOf({ ...API_KEY_FIELDS, revoked_at: TIME }),
    }),
    example: {
      api_key: { ...API_KEY_EXAMPLE, revoked_at: "2026-12-04T17:47:50.923Z" },
    },
  },
  errors: [{ status: 404, code: "api_key_not_found", when: "No key has this id." }],
};
