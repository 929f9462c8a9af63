/**
 * Admin routes for API keys: create (the secret is returned once), list, revoke.
 *
 * With several shards every key is copied to each (worker/auth/key-copies.ts): create and revoke
 * write all of them, the control database last, and answer 5xx if any failed (nothing is listed or
 * revoked until every shard has it; sending the request again converges). Listing reads the
 * control database, the source of truth.
 */
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Context } from "hono";
import { parseScopes } from "../../auth/authenticate";
import { revokeKeyEverywhere, storeKeyEverywhere } from "../../auth/key-copies";
import { generateApiKey, hashApiKey, keyPrefix, type Scope } from "../../auth/keys";
import { wallClock } from "../../clock";
import { type ApiKeyRow, apiKeys } from "../../db/schema";
import { controlDatabase } from "../../db/shards";
import { ApiError, validationFailed } from "../../errors";
import { validateApiKeyCreate } from "../../generated/validators.js";
import { REQUEST_LIMITS } from "../../limits";
import type { AppEnv, RouteDef } from "../app-env";
import { createKeyDoc, listKeysDoc, revokeKeyDoc } from "../docs/api-keys";
import { readJsonBody } from "../json-body";
import { schemaProblems } from "../validation";

async function createKey(c: Context<AppEnv>): Promise<Response> {
  const body = await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes);
  const details = schemaProblems(validateApiKeyCreate, body);
  if (details.length > 0) throw validationFailed(details);
  const request = body as { name: string; scopes: Scope[] };

  const { id, secret } = generateApiKey();
  const row: ApiKeyRow = {
    id,
    name: request.name,
    keyHash: await hashApiKey(secret),
    keyPrefix: keyPrefix(secret),
    scopes: JSON.stringify([...new Set(request.scopes)]),
    createdAt: wallClock(),
    revokedAt: null,
  };
  await storeKeyEverywhere(c.env, row);
  // The only time the secret leaves the Worker: it is not stored and cannot be shown again.
  return c.json({ api_key: { ...keyView(row), key: secret } }, 201);
}

async function listKeys(c: Context<AppEnv>): Promise<Response> {
  const rows = await drizzle(controlDatabase(c.env))
    .select()
    .from(apiKeys)
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  return c.json({ api_keys: rows.map(keyView) });
}

async function revokeKey(c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param("id") ?? "";
  const existing = await drizzle(controlDatabase(c.env))
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.id, id))
    .get();
  if (!existing) throw new ApiError(404, "api_key_not_found", `No API key has the id "${id}".`);
  // Revoked on the control database means revoked on every shard (it is written last).
  if (existing.revokedAt !== null) return c.json({ api_key: keyView(existing) });
  return c.json({ api_key: keyView(await revokeKeyEverywhere(c.env, existing, wallClock())) });
}

function keyView(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.keyPrefix,
    scopes: parseScopes(row.scopes),
    created_at: new Date(row.createdAt).toISOString(),
    revoked_at: row.revokedAt === null ? null : new Date(row.revokedAt).toISOString(),
  };
}

export const apiKeyRoutes: readonly RouteDef[] = [
  { method: "POST", path: "/v1/admin/api-keys", scope: "admin", handler: createKey, doc: createKeyDoc },
  { method: "GET", path: "/v1/admin/api-keys", scope: "admin", handler: listKeys, doc: listKeysDoc },
  { method: "DELETE", path: "/v1/admin/api-keys/:id", scope: "admin", handler: revokeKey, doc: revokeKeyDoc },
];
