// The code's shape, kept by a test: the language is used through its one entry point, its layers
// and the Worker's folders import one way only, and no two files import each other in a circle.
// docs/architecture.md says why; this file says exactly what is allowed.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

/**
 * The Worker's layers, first to last: a folder imports only folders after it. "base" is the
 * Worker's own files at the top level (env, clock, limits, errors, ids, the deployed ruleset), then
 * the generated build outputs; worker/index.ts is the entry that binds everything together.
 */
const WORKER_LAYERS: readonly (readonly string[])[] = [
  ["index"],
  ["queue", "api"],
  ["dashboard"],
  ["plan"],
  ["tick"],
  ["privacy"],
  ["archive"],
  ["shards"],
  ["providers"],
  ["decisions", "ingest", "sends"],
  ["auth", "attributes"],
  ["metrics"],
  ["db", "channels"],
  ["base"],
  ["generated"],
  ["dsl"],
];

/** The language's layers, first to last: a layer imports only layers after it. */
const DSL_LAYERS: readonly (readonly string[])[] = [
  ["index"],
  ["cli"],
  ["runtime"],
  ["rules"],
  ["expr", "time"],
  ["base"],
];

interface Edge {
  from: string; // repo-relative file
  to: string; // repo-relative file it imports
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Every relative import of a file (static, re-export, side-effect and dynamic), resolved to a file. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const specs = [
    ...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^"';]*?\sfrom\s*["']([^"']+)["']/g),
    ...text.matchAll(/(?:^|[\s;])import\s*["']([^"']+)["']/g),
    ...text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
  const resolved: string[] = [];
  for (const spec of specs) {
    if (!spec.startsWith(".")) continue;
    const base = resolve(dirname(join(root, file)), spec.split("?")[0]!);
    const candidates = [base, `${base}.ts`, `${base}.mjs`, join(base, "index.ts")];
    const hit = candidates.find((path) => {
      try {
        return statSync(path).isFile();
      } catch {
        return false;
      }
    });
    if (hit) resolved.push(relative(root, hit));
  }
  return resolved;
}

const files = [...sourceFiles("worker"), ...sourceFiles("dsl"), ...sourceFiles("bench")].filter(
  (file) => !file.startsWith("worker/tools/"),
);
const edges: Edge[] = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

function workerPart(file: string): string {
  if (file.startsWith("dsl/")) return "dsl";
  const [, second, third] = file.split("/");
  if (third === undefined) return second === "index.ts" ? "index" : "base";
  return second!;
}

function dslPart(file: string): string {
  const [, second, third] = file.split("/");
  if (third === undefined) return second === "index.ts" ? "index" : "base";
  return second!;
}

function rankIn(layers: readonly (readonly string[])[], part: string): number {
  const rank = layers.findIndex((layer) => layer.includes(part));
  if (rank < 0) throw new Error(`${part} is in no layer: add it to the layer list in this test`);
  return rank;
}

function violations(
  scope: (file: string) => boolean,
  partOf: (file: string) => string,
  layers: readonly (readonly string[])[],
): string[] {
  const out = new Set<string>();
  for (const { from, to } of edges) {
    if (!scope(from) || !scope(to)) continue;
    const a = partOf(from);
    const b = partOf(to);
    if (a === b) continue;
    if (rankIn(layers, a) >= rankIn(layers, b)) out.add(`${a} → ${b} (${from} imports ${to})`);
  }
  return [...out].sort();
}

describe("the rule language", () => {
  it("is imported by worker/ and bench/ only through dsl/index.ts", () => {
    const reaching = edges
      .filter(({ from, to }) => !from.startsWith("dsl/") && to.startsWith("dsl/") && to !== "dsl/index.ts")
      .map(({ from, to }) => `${from} imports ${to}`);
    expect(reaching).toEqual([]);
  });

  it("has layers that import one way: index → cli → runtime → rules → expr, time → errors, limits", () => {
    expect(violations((file) => file.startsWith("dsl/"), dslPart, DSL_LAYERS)).toEqual([]);
  });
});

describe("the Worker's folders", () => {
  it("import one way: entry → queue, api → tick → domain → auth, attributes → db, channels → base → dsl", () => {
    expect(
      violations((file) => file.startsWith("worker/") || file === "dsl/index.ts", workerPart, WORKER_LAYERS),
    ).toEqual([]);
  });
});

describe("files", () => {
  it("import each other in no circle", () => {
    // Tarjan's strongly connected components over the file graph; any component of two or more
    // files is a circle.
    const graph = new Map<string, string[]>();
    for (const { from, to } of edges) graph.set(from, [...(graph.get(from) ?? []), to]);
    let index = 0;
    const indexOf = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    const visit = (node: string): void => {
      indexOf.set(node, index);
      low.set(node, index);
      index++;
      stack.push(node);
      onStack.add(node);
      for (const next of graph.get(node) ?? []) {
        if (!indexOf.has(next)) {
          visit(next);
          low.set(node, Math.min(low.get(node)!, low.get(next)!));
        } else if (onStack.has(next)) {
          low.set(node, Math.min(low.get(node)!, indexOf.get(next)!));
        }
      }
      if (low.get(node) === indexOf.get(node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        if (component.length > 1) circles.push(component.sort());
      }
    };
    for (const file of files) if (!indexOf.has(file)) visit(file);
    expect(circles).toEqual([]);
  });
});

it("reads the imports it checks", () => {
  // A guard for the checks above: the parser must see the imports that exist.
  expect(importsOf("worker/index.ts")).toContain("worker/api/app.ts");
  expect(edges.some(({ to }) => to === "dsl/index.ts")).toBe(true);
});

describe("README's table of where things live", () => {
  it("names every folder of worker/, dsl/ and test/, and no folder that is gone", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Where things live"));
    const table = section.slice(0, section.indexOf("\n## ", 1));
    const named = new Set([...table.matchAll(/`((?:worker|dsl|test)\/[\w./-]*?)\/?`/g)].map((m) => m[1]!));
    const folders = ["worker", "dsl", "test"].flatMap((top) =>
      readdirSync(join(root, top))
        .filter((name) => statSync(join(root, top, name)).isDirectory())
        .map((name) => `${top}/${name}`),
    );
    expect(folders.filter((folder) => !named.has(folder))).toEqual([]);
    const gone = [...named].filter((path) => {
      try {
        statSync(join(root, path));
        return false;
      } catch {
        return true;
      }
    });
    expect(gone).toEqual([]);
  });
});
