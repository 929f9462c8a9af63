/**
 * The malformed-rule corpus as data: every file in test/dsl/malformed/ is a broken rule file whose
 * leading `# expect: <code> <line>:<col>` comments say which located errors the checker must report.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface MalformedCase {
  name: string;
  path: string;
  text: string;
  expected: { code: string; line: number; column: number }[];
}

export const MALFORMED_DIR = join(import.meta.dirname, "malformed");

/** Every corpus case with its expectations. */
export function malformedCases(): MalformedCase[] {
  return readdirSync(MALFORMED_DIR)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => {
      const path = join(MALFORMED_DIR, name);
      const text = readFileSync(path, "utf8");
      const expected = [...text.matchAll(/^# expect: (\w+) (\d+):(\d+)$/gm)].map((m) => ({
        code: m[1]!,
        line: Number(m[2]),
        column: Number(m[3]),
      }));
      return { name: name.replace(/\.yaml$/, ""), path: `test/dsl/malformed/${name}`, text, expected };
    });
}
