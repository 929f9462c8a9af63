/**
 * `npm start`'s rules watcher: rebuilds the ruleset when a file under rules/ (or the language in
 * dsl/) changes, with the same `rebound build` the deploy runs. A build that checks writes
 * worker/generated/ruleset.*, which wrangler.toml's [build] watches, so `wrangler dev` reloads with
 * it; a rule error writes nothing, so the server keeps answering with the last good ruleset while
 * the error is printed once, located as `rebound validate` prints it.
 *
 * Flow: rules/*.yaml saved → (debounce) → dsl/cli/bin.mjs build → worker/generated/ruleset.ts →
 * wrangler dev's [build] watch → the Worker reloads.
 */
import { spawn } from "node:child_process";
import { type FSWatcher, watch } from "node:fs";
import { join } from "node:path";

/** How long the watcher waits after the last change before it builds (an editor's save is several events). */
export const RULES_DEBOUNCE_MS = 200;

/** What one build of the rules did. */
export type RulesBuild = { ok: true; version: string; output: string } | { ok: false; output: string };

/**
 * Checks `rulesDir` and, only when every rule checks, writes `<root>/worker/generated/ruleset.*`.
 * `output` is what `rebound build` printed: the located diagnostics when it failed.
 */
export async function buildRules(root: string, rulesDir = "rules"): Promise<RulesBuild> {
  const child = spawn(
    process.execPath,
    [join(root, "dsl/cli/bin.mjs"), "build", rulesDir, "--out", "worker/generated"],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) return { ok: false, output };
  // `rebound build` prints "built worker/generated/ruleset.json (<version>)" on stdout; warnings
  // (stderr) may come before or after it.
  const version = /^built \S+ \(([^)\s]+)\)$/m.exec(output)?.[1] ?? "unknown";
  return { ok: true, version, output };
}

export interface RulesWatcher {
  /** Stops watching; a build under way still finishes. */
  close(): void;
}

export interface WatchRulesOptions {
  /** The repository root: rules/, dsl/ and worker/generated/ are found under it. */
  root: string;
  /** Where messages go (npm start: the terminal). */
  log?: (text: string) => void;
  debounceMs?: number;
  /** The version the server started with: a rebuild that comes out the same says nothing. */
  initialVersion?: string;
}

/**
 * Watches rules/ and dsl/ under `root` and rebuilds the ruleset after each burst of changes. One
 * build runs at a time; changes during a build start one more when it ends. A failing build prints
 * its diagnostics unless they are the ones already printed (saving the same broken file again, or
 * another file, says nothing new), and a later good build says that the ruleset was reloaded.
 */
export function watchRules(options: WatchRulesOptions): RulesWatcher {
  const log = options.log ?? ((text: string) => process.stdout.write(text));
  const debounceMs = options.debounceMs ?? RULES_DEBOUNCE_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let building = false;
  let pending = false;
  let printedFailure: string | undefined;
  let version = options.initialVersion;
  let closed = false;

  const build = async (): Promise<void> => {
    if (closed) return;
    if (building) {
      pending = true;
      return;
    }
    building = true;
    try {
      const result = await buildRules(options.root);
      if (!result.ok) {
        if (result.output !== printedFailure) {
          log(
            `rules: not reloaded; the server keeps the last good ruleset until this is fixed:\n${result.output}`,
          );
          printedFailure = result.output;
        }
      } else {
        if (printedFailure !== undefined) log(`rules: fixed; reloading with ruleset ${result.version}\n`);
        else if (result.version !== version) log(`rules: reloading with ruleset ${result.version}\n`);
        printedFailure = undefined;
        version = result.version;
      }
    } finally {
      building = false;
      if (pending) {
        pending = false;
        void build();
      }
    }
  };

  const changed = (_event: string, file: string | Buffer | null): void => {
    // Editors write swap and backup files next to the one saved; only the sources matter.
    const name = String(file ?? "");
    if (name !== "" && !/\.(ya?ml|ts|mjs|json)$/.test(name)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void build(), debounceMs);
  };
  const watchers: FSWatcher[] = ["rules", "dsl"].map((dir) =>
    watch(join(options.root, dir), { recursive: true }, changed),
  );
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
