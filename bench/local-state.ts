/**
 * What the benches that run `wrangler dev` on a state directory of their own share: the directory,
 * removed with the dev servers when the bench ends or is interrupted, and the local D1 database in
 * it, opened with D1's own result meta (rows read, database size) that `wrangler d1 execute` does
 * not print.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { stopDevServers } from "../worker/tools/wrangler-dev";

/** wrangler.toml's local database id. */
export const DATABASE_ID = "00000000-0000-4000-8000-000000000000";

export type BenchDatabase = Awaited<ReturnType<Miniflare["getD1Database"]>>;

/** The local D1 database of `stateDir`, for `use` (the server must be stopped). */
export async function withDatabase<T>(stateDir: string, use: (db: BenchDatabase) => Promise<T>): Promise<T> {
  const mf = new Miniflare({
    modules: true,
    script: "",
    d1Persist: join(stateDir, "v3", "d1"),
    d1Databases: { DB: DATABASE_ID },
  });
  try {
    return await use(await mf.getD1Database("DB"));
  } finally {
    await mf.dispose();
  }
}

let stateDir: string | null = null;
let cleaningUp: Promise<void> | null = null;

/** A fresh state directory for this run (`rebound-bench-<name>-…` in the temp folder), removed by cleanUp. */
export function benchStateDir(name: string): string {
  if (stateDir === null) stopOnSignals();
  stateDir = mkdtempSync(join(tmpdir(), `rebound-bench-${name}-`));
  return stateDir;
}

/** Stops the dev servers (also one still starting) and removes the state, once however often asked. */
export function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    await stopDevServers();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  })();
  return cleaningUp;
}

/**
 * A Ctrl-C reaches this process (and npm, and tsx, which relay signals of their own) but not
 * wrangler dev, which runs in its own process group: stop it before exiting, whichever signal comes
 * first and however many follow.
 */
function stopOnSignals(): void {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.on(signal, () => {
      if (cleaningUp === null) console.error(`${signal}: stopping wrangler dev`);
      void cleanUp().finally(() => process.exit(code));
    });
  }
}
