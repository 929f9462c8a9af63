// The typed client (client/) against the document it is typed from: its generated files are what
// `npm run build:client-types` makes from the route table now, and its README shows the example
// that `npm run typecheck` compiles and the wrangler dev smoke test runs, word for word.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildClientFiles } from "../../worker/tools/build-client";

const root = join(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

describe("the typed client", () => {
  it("has generated files that match the document the route table builds", async () => {
    const files = await buildClientFiles();
    for (const [path, text] of Object.entries(files)) {
      // A plain equality would print 1 MB on failure: say which file, and what to run.
      expect(read(path) === text, `${path} is stale: run npm run build:client-types`).toBe(true);
    }
  });

  it("shows in its README the quickstart example it compiles, verbatim", () => {
    const readme = read("client/README.md");
    const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
    expect(blocks).toContain(read("client/examples/quickstart.ts"));
  });
});
