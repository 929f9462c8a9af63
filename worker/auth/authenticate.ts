/**
 * Who is calling: resolves `Authorization: Bearer <key>` to a principal with scopes, or refuses.
 * The bootstrap admin key (REBOUND_ADMIN_KEY) is compared by hash in constant time; every other key
 * is looked up by its hash in `api_keys`.
 *
 * Two ways to look a key up (worker/db/api-key-lookup.ts), with the same outcome:
 * - `authenticate`: its own D1 statement, before the handler runs (every route by default);
 * - `FoldedKeyCheck`: the lookup rides in the route's first read as one more column
 *   (`keyLookupColumn`), saving a D1 round trip on the hot decision routes. The route passes the
 *   check's `keyHash` to that read and settles the check with the key row it returned before
 *   anything is evaluated or written (the decision read takes a callback for that:
 *   worker/api/routes/decisions.ts connects the two); worker/api/app.ts settles any check a handler
 *   left open, so no response goes out for an unverified key.
 *
 * Keys are copied to every shard (worker/auth/key-copies.ts). `authenticate` reads the control
 * database, where every key is; a folded lookup reads the customer's shard, whose copy says the same.
 *
 * The dashboard (worker/api/routes/dashboard.ts) keeps its key in the `rebound_session` cookie;
 * `presentedCredential` lets that cookie stand in for the header on `GET /v1/metrics/...` only.
 */
import { lookUpKey, type StoredKey } from "../db/api-key-lookup";
import { controlDatabase } from "../db/shards";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { allows, hashApiKey, hashesEqual, SCOPES, type Scope } from "./keys";

/** The caller of a request, once authenticated. */
export interface Principal {
  /** `api_keys.id`, or `bootstrap-admin` for REBOUND_ADMIN_KEY. */
  keyId: string;
  scopes: readonly Scope[];
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The cookie the dashboard's sign-in sets to the key (HttpOnly, Secure, SameSite=Strict). */
export const SESSION_COOKIE = "rebound_session";

/** The only requests the session cookie may authenticate: reads of the metrics API. */
const COOKIE_PATH_PREFIX = "/v1/metrics/";

/**
 * What a request presents as its key, in the form `presentedKey` reads: its Authorization header or,
 * for a `GET /v1/metrics/...` without one, the dashboard's session cookie as a bearer key. Nothing
 * else accepts the cookie, so a cookie can only ever read figures; SameSite=Strict keeps other
 * sites' pages from sending it.
 */
export function presentedCredential(request: Request): string | undefined {
  const authorization = request.headers.get("authorization") ?? undefined;
  if (authorization !== undefined || request.method !== "GET") return authorization;
  if (!new URL(request.url).pathname.startsWith(COOKIE_PATH_PREFIX)) return undefined;
  const key = sessionCookie(request.headers.get("cookie"));
  return key ? `Bearer ${key}` : undefined;
}

/** The key in a Cookie header's `rebound_session`, or undefined when there is none. */
export function sessionCookie(cookieHeader: string | null): string | undefined {
  for (const pair of (cookieHeader ?? "").split(";")) {
    const [name, ...value] = pair.split("=");
    if (name?.trim() !== SESSION_COOKIE) continue;
    try {
      return decodeURIComponent(value.join("=").trim()) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The hash of the key a request presents, and the principal right away when it is the bootstrap
 * admin key (no lookup needed).
 *
 * @throws ApiError 401 `unauthorized` when the header is missing or malformed
 */
export async function presentedKey(
  authorization: string | undefined,
  env: Env,
): Promise<{ hash: string; bootstrap: Principal | null }> {
  const presented = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  if (!presented) {
    throw new ApiError(401, "unauthorized", "Send an API key as `Authorization: Bearer <key>`.");
  }
  const hash = await hashApiKey(presented);
  const bootstrap =
    env.REBOUND_ADMIN_KEY && hashesEqual(hash, await bootstrapHash(env.REBOUND_ADMIN_KEY))
      ? { keyId: "bootstrap-admin", scopes: ["admin"] as const }
      : null;
  return { hash, bootstrap };
}

// The bootstrap key's hash, computed once per isolate (per key value: tests pass their own env).
let bootstrap: { key: string; hash: Promise<string> } | null = null;

function bootstrapHash(key: string): Promise<string> {
  if (bootstrap?.key !== key) bootstrap = { key, hash: hashApiKey(key) };
  return bootstrap.hash;
}

/**
 * Authenticates a request's Authorization header with its own lookup, on the control database.
 *
 * @throws ApiError 401 `unauthorized` when the header is missing, malformed, unknown or revoked
 */
export async function authenticate(authorization: string | undefined, env: Env): Promise<Principal> {
  const { hash, bootstrap } = await presentedKey(authorization, env);
  return bootstrap ?? principalOf(await lookUpKey(controlDatabase(env), hash));
}

/**
 * A presented key whose lookup the route folds into its first read. Nothing may be evaluated,
 * written or answered for the request until `settle` has accepted the key.
 */
export class FoldedKeyCheck {
  readonly #hash: string;
  #principal: Principal | null = null;

  constructor(
    presented: { hash: string; bootstrap: Principal | null },
    private readonly scope: Scope,
    /** Called once, when the key is accepted (the app stores the principal on the request). */
    private readonly onSettled: (principal: Principal) => void = () => {},
  ) {
    this.#hash = presented.hash;
    if (presented.bootstrap) this.#accept(presented.bootstrap);
  }

  /** Bind this to the `keyLookupColumn` parameter: null once settled (nothing left to look up). */
  get keyHash(): string | null {
    return this.#principal ? null : this.#hash;
  }

  get settled(): boolean {
    return this.#principal !== null;
  }

  /**
   * Accepts or refuses the key with what the folded lookup found (the live key row, or null). Once
   * settled, later calls return the same principal without looking.
   *
   * @throws ApiError 401 for an unknown or revoked key, 403 for a key without the route's scope
   */
  settle(found: StoredKey | null): Principal {
    if (this.#principal) return this.#principal;
    return this.#accept(principalOf(found));
  }

  /**
   * Settles the check with a lookup of its own (for a request that ended before its first read): on
   * the control database, or any shard, since every shard holds a copy of every key.
   */
  async settleAlone(db: D1Database): Promise<Principal> {
    if (this.#principal) return this.#principal;
    return this.#accept(principalOf(await lookUpKey(db, this.#hash)));
  }

  #accept(principal: Principal): Principal {
    requireScope(principal, this.scope);
    this.#principal = principal;
    this.onSettled(principal);
    return principal;
  }
}

/** @throws ApiError 403 `forbidden` unless the principal's scopes include `scope` (or admin) */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!allows(principal.scopes, scope)) {
    throw new ApiError(403, "forbidden", `This API key lacks the "${scope}" scope.`);
  }
}

function principalOf(stored: StoredKey | null): Principal {
  if (!stored) throw new ApiError(401, "unauthorized", "The API key is unknown or revoked.");
  return { keyId: stored.id, scopes: parseScopes(stored.scopes) };
}

/** Reads the stored JSON scope list, ignoring anything that is not a known scope. */
export function parseScopes(stored: string): Scope[] {
  const parsed: unknown = JSON.parse(stored);
  return Array.isArray(parsed) ? SCOPES.filter((scope) => parsed.includes(scope)) : [];
}
