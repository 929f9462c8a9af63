/**
 * OpenAPI documentation of worker/api/routes/api-keys.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const createKeyDoc: RouteDoc = {
  summary: "Create an API key",
  tag: "Admin",
  description:
    "Creates a key with the given scopes. The secret (`key`) is in this answer only: it is stored as a SHA-256 hash and cannot be shown again.",
  requestBody: {
    schema: {
      $ref: "https://rebound.dev/schemas/api-key-create.json",
    },
    example: {
      name: "web app",
      scopes: ["decisions:read"],
    },
  },
  response: {
    status: 201,
    description: "The new key, with its secret.",
    schema: {
      type: "object",
      required: ["api_key"],
      properties: {
        api_key: {
          type: "object",
          required: ["id", "name", "prefix", "scopes", "created_at", "revoked_at", "key"],
          properties: {
            id: {
              type: "string",
            },
            name: {
              type: "string",
            },
            prefix: {
              type: "string",
            },
            scopes: {
              type: "array",
              items: {
                type: "string",
              },
            },
            created_at: {
              type: "string",
              format: "date-time",
            },
            revoked_at: {
              type: ["string", "null"],
              format: "date-time",
            },
            key: {
              type: "string",
            },
          },
        },
      },
    },
    example: {
      api_key: {
        id: "key_a39221bd38e24c42",
        name: "app",
        prefix: "rbk_E7tiLk",
        scopes: ["decisions:read"],
        created_at: "2026-12-04T17:47:50.854Z",
        revoked_at: null,
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
    schema: {
      type: "object",
      required: ["api_keys"],
      properties: {
        api_keys: {
          type: "array",
          items: {
            type: "object",
            required: ["id", "name", "prefix", "scopes", "created_at", "revoked_at"],
            properties: {
              id: {
                type: "string",
              },
              name: {
                type: "string",
              },
              prefix: {
                type: "string",
              },
              scopes: {
                type: "array",
                items: {
                  type: "string",
                },
              },
              created_at: {
                type: "string",
                format: "date-time",
              },
              revoked_at: {
                type: ["string", "null"],
                format: "date-time",
              },
            },
          },
        },
      },
    },
    example: {
      api_keys: [
        {
          id: "key_a39221bd38e24c42",
          name: "app",
          prefix: "rbk_E7tiLk",
          scopes: ["decisions:read"],
          created_at: "2026-12-04T17:47:50.854Z",
          revoked_at: null,
        },
      ],
    },
  },
  errors: [],
};

export const revokeKeyDoc: RouteDoc = {
  summary: "Revoke an API key",
  tag: "Admin",
  description: "Revokes the key at once. Idempotent: revoking a revoked key answers it unchanged.",
  pathParams: {
    id: {
      description: "The key's id (`key_…`).",
      schema: {
        type: "string",
      },
      example: "key_4f2a9c1d7e3b8a60",
    },
  },
  response: {
    status: 200,
    description: "The revoked key.",
    schema: {
      type: "object",
      required: ["api_key"],
      properties: {
        api_key: {
          type: "object",
          required: ["id", "name", "prefix", "scopes", "created_at", "revoked_at"],
          properties: {
            id: {
              type: "string",
            },
            name: {
              type: "string",
            },
            prefix: {
              type: "string",
            },
            scopes: {
              type: "array",
              items: {
                type: "string",
              },
            },
            created_at: {
              type: "string",
              format: "date-time",
            },
            revoked_at: {
              type: "string",
              format: "date-time",
            },
          },
        },
      },
    },
    example: {
      api_key: {
        id: "key_a39221bd38e24c42",
        name: "app",
        prefix: "rbk_E7tiLk",
        scopes: ["decisions:read"],
        created_at: "2026-12-04T17:47:50.854Z",
        revoked_at: "2026-12-04T17:47:50.923Z",
      },
    },
  },
  errors: [
    {
      status: 404,
      code: "api_key_not_found",
      when: "No key has this id.",
    },
  ],
};
