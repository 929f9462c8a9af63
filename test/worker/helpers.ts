// Test helpers: issue real API keys in D1 and call the Worker through its fetch entry point.
import { env, exports } from "cloudflare:workers";
import { generateApiKey, hashApiKey, keyPrefix, type Scope } from "../../worker/auth/keys";

/** Issues an API key with `scopes` straight into D1 and returns its secret. */
export async function issueKey(scopes: readonly Scope[]): Promise<string> {
  const { id, secret } = generateApiKey();
  await env.DB.prepare(
    "INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  )
    .bind(
      id,
      `test ${scopes.join(" ")}`,
      await hashApiKey(secret),
      keyPrefix(secret),
      JSON.stringify(scopes),
      0,
    )
    .run();
  return secret;
}

export interface CallOptions {
  method?: string;
  key?: string;
  body?: unknown;
  /** Sent as is instead of JSON-encoding `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
type Json = any;

/** Calls the Worker and returns the status and the parsed JSON body. */
export async function call(path: string, options: CallOptions = {}): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const response = await exports.default.fetch(`http://rebound.test${path}`, {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  return { status: response.status, body: await response.json() };
}

let sequence = 0;

/** An event envelope with a unique id; override any field. */
export function event(
  type: string,
  customerId: string,
  occurredAt: string,
  properties: Record<string, unknown> = {},
  id = `evt_${++sequence}_${Math.random().toString(36).slice(2, 8)}`,
) {
  return { id, type, customer_id: customerId, occurred_at: occurredAt, properties };
}

/** Ingests events with an events:write key, failing the test on a non-200. */
export async function ingest(key: string, events: readonly unknown[]) {
  const result = await call("/v1/events", { key, body: { events } });
  if (result.status !== 200)
    throw new Error(`ingest failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** Reads a profile (the API view) with a decisions:read key. */
export async function profile(key: string, customerId: string) {
  const result = await call(`/v1/customers/${encodeURIComponent(customerId)}`, { key });
  if (result.status !== 200)
    throw new Error(`profile failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.customer;
}
