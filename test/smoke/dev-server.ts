// The smoke tests' server: the built Worker under a real `wrangler dev` on a free port, with its own
// temporary D1 state (migrations applied) and a fresh admin key, started before a file's tests and
// stopped after them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  applyLocalMigrations,
  type DevServer,
  freePort,
  startDevServer,
} from "../../worker/tools/wrangler-dev";

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
export type Json = any;

export interface SmokeServer {
  readonly adminKey: string;
  /** The server's base URL, for requests the JSON helper below cannot make (streamed bodies). */
  readonly url: string;
  /** Sends a request with `key` as the bearer key (none when undefined) and a JSON body if given. */
  request(
    method: string,
    path: string,
    key?: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }>;
}

/**
 * Registers the server's start and stop around the calling test file's tests. `vars` are further
 * variables for the Worker (e.g. REBOUND_ALLOW_FUTURE_TICKS).
 */
export function useDevServer(statePrefix: string, vars: Record<string, string> = {}): SmokeServer {
  let server: DevServer | undefined;
  let stateDir: string | undefined;
  const adminKey = `smoke-admin-${crypto.randomUUID()}`;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), statePrefix));
    await applyLocalMigrations({ persistTo: stateDir, quiet: true });
    server = await startDevServer({
      port: await freePort(),
      persistTo: stateDir,
      secrets: { ...vars, REBOUND_ADMIN_KEY: adminKey },
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  return {
    adminKey,
    get url() {
      if (!server) throw new Error("the wrangler dev server has not started");
      return server.url;
    },
    async request(method, path, key, body) {
      if (!server) throw new Error("the wrangler dev server has not started");
      const headers: Record<string, string> = {};
      if (key) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(server.url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Json };
    },
  };
}
