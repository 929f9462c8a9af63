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
import { type Dirent, type FSWatcher, readdirSync, watch } from "node:fs";
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

  // Every change in a watched directory triggers a (debounced) build: a build whose result is the
  // ruleset already served says nothing and writes nothing (rebound build writes only what changed),
  // so an editor's swap file costs one quiet build. Names are not filtered: a file saved by rename
  // (sed -i, git checkout, an editor's atomic save) shows only as the temporary file's name.
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void build(), debounceMs);
  };
  // Each directory is watched on its own, not with { recursive: true }: on Linux, Node 20 makes a
  // recursive watch out of one watcher per file, which stays on the old file once it is replaced by
  // rename, so later saves of that file went unseen. A directory's own watch sees its entries by name
  // whatever their inode. New directories are picked up at the next change.
  const watchers = new Map<string, FSWatcher>();
  const watchTree = (): void => {
    for (const dir of directoriesUnder(options.root, ["rules", "dsl"])) {
      if (watchers.has(dir)) continue;
      try {
        watchers.set(
          dir,
          watch(dir, () => {
            watchTree();
            changed();
          }),
        );
      } catch {
        // The directory went away between listing and watching: nothing to watch.
      }
    }
  };
  watchTree();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
    },
  };
}

/** `dirs` under `root` and every directory below them (dot-directories and node_modules left out). */
function directoriesUnder(root: string, dirs: readonly string[]): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    found.push(dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
        visit(join(dir, entry.name));
    }
  };
  for (const dir of dirs) visit(join(root, dir));
  return found;
}
