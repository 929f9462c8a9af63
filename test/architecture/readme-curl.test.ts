// README's curl tour against the OpenAPI document (GET /openapi.json): every `curl` in its shell
// blocks names a documented method and path, only documented query parameters with valid values, and
// a JSON body (`-d '…'`, `-d "$BATCH"`, `-d @- <<EOF`) that the documented request schema accepts.
// A curl to an undocumented route, or a body the API would refuse, fails here first.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../worker/api/openapi/document";
import { ROUTES } from "../../worker/api/route-table";
import { API_VERSION } from "../../worker/api/routes/openapi";
import { documentChecker } from "../smoke/openapi-check";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as plain JSON
type Json = any;
const document: Json = buildOpenApiDocument(ROUTES, API_VERSION);
const checker = documentChecker(document);
const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

/** `$(at -30d)` in the tour: any moment will do for a schema, so the tour's start. */
const TOUR_TIME = "2026-12-04T16:08:32.045Z";

/** One curl as the shell would run it. */
interface Curl {
  line: string;
  method: string;
  url: URL;
  body: string | undefined;
}

/** The words of a shell line after quoting and expansion: `'…'`, `"…"` with `$VAR` and `$(at …)`. */
function shellWords(line: string, variables: ReadonlyMap<string, string>): string[] {
  const words: string[] = [];
  let word: string | null = null;
  const expand = (text: string, at: number): [string, number] => {
    const command = /^\$\(at (-?\w+)\)/.exec(text.slice(at));
    if (command) return [TOUR_TIME, at + command[0].length];
    // `$(ago 40)` and `$(date +%s)` in the billing providers' part: epoch seconds.
    const seconds = /^\$\((?:ago \d+|date \+%s)\)/.exec(text.slice(at));
    if (seconds) return [String(Date.parse(TOUR_TIME) / 1000), at + seconds[0].length];
    const name = /^\$\{?(\w+)\}?/.exec(text.slice(at));
    if (name) return [variables.get(name[1]!) ?? "", at + name[0].length];
    return ["$", at + 1];
  };
  for (let i = 0; i < line.length; ) {
    const char = line[i]!;
    if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (char === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`README: an unclosed ' in ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end + 1;
    } else if (char === '"') {
      word ??= "";
      for (i++; line[i] !== '"'; ) {
        if (i >= line.length) throw new Error(`README: an unclosed " in ${line}`);
        if (line[i] === "\\" && '"\\$`'.includes(line[i + 1]!)) {
          word += line[i + 1];
          i += 2;
        } else if (line[i] === "$") {
          const [value, next] = expand(line, i);
          word += value;
          i = next;
        } else word += line[i++];
      }
      i++;
    } else if (char === "$") {
      const [value, next] = expand(line, i);
      word = (word ?? "") + value;
      i = next;
    } else {
      word = (word ?? "") + char;
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Whether `text` ends inside a quoted string (a `-d '…'` body may span lines). */
function insideQuotes(text: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote === '"' && char === "\\") i++;
    else if (quote === null && (char === "'" || char === '"')) quote = char;
    else if (char === quote) quote = null;
  }
  return quote !== null;
}

/** Every curl in README's `sh` blocks, with the heredoc variables and bodies they use. */
function readmeCurls(): Curl[] {
  const curls: Curl[] = [];
  for (const block of readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const lines = block[1]!.replace(/\\\n/g, " ").split("\n");
    const variables = new Map<string, string>([["KEY", "rbk_readme"]]);
    const heredoc = (from: number): [string, number] => {
      const end = lines.indexOf("EOF", from);
      const text = lines.slice(from, end).join("\n");
      return [shellWords(`"${text.replaceAll('"', '\\"')}"`, variables)[0] ?? "", end];
    };
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!.trim();
      const assignment = /^(\w+)=\$\(cat <<EOF$/.exec(line);
      if (assignment) {
        const [text, end] = heredoc(i + 1);
        variables.set(assignment[1]!, text);
        i = end + 1; // the closing `)`
        continue;
      }
      if (!line.startsWith("curl ")) continue;
      while (insideQuotes(line) && i + 1 < lines.length) line += `\n${lines[++i]}`;
      const words = shellWords(line.replace(/\s<<EOF$/, ""), variables);
      let method: string | undefined;
      let body: string | undefined;
      let url: string | undefined;
      for (let w = 1; w < words.length; w++) {
        const flag = words[w]!;
        if (flag === "-X") method = words[++w];
        else if (flag === "-H") w++;
        else if (flag === "-d" || flag === "--data") body = words[++w];
        else if (!flag.startsWith("-")) url = flag;
      }
      if (body === "@-") [body, i] = heredoc(i + 1);
      if (!url) throw new Error(`README: a curl with no URL: ${line}`);
      const absolute = new URL(url.startsWith("http") ? url : `http://${url}`);
      curls.push({ line, method: method ?? (body === undefined ? "GET" : "POST"), url: absolute, body });
    }
  }
  return curls;
}

/** The documented path template `path` falls under, if any (`/v1/customers/{id}`). */
function documentedPath(method: string, path: string): [string, Record<string, string>] | undefined {
  for (const template of Object.keys(document.paths)) {
    const names: string[] = [];
    const pattern = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (match && checker.operation(method, template))
      return [
        template,
        Object.fromEntries(names.map((name, n) => [name, decodeURIComponent(match[n + 1]!)])),
      ];
  }
  return undefined;
}

/** What is wrong with one curl under the document. */
function problemsOf(curl: Curl): string[] {
  const where = `${curl.method} ${curl.url.pathname}${curl.url.search}`;
  const found = documentedPath(curl.method, curl.url.pathname);
  if (!found) return [`${where}: no such operation in the document`];
  const [template, pathValues] = found;
  const operation = checker.operation(curl.method, template);
  const problems: string[] = [];
  const parameters = new Map<string, Json>(
    operation.parameters.map((parameter: Json) => [`${parameter.in} ${parameter.name}`, parameter]),
  );
  const checkValue = (key: string, value: string) => {
    const parameter = parameters.get(key);
    if (!parameter) return problems.push(`${where}: ${key} is not documented`);
    // README writes an id it cannot know as `dec_01a2...`.
    if (value.endsWith("...")) return;
    const schema = parameter.schema;
    const typed = schema.type === "integer" && /^-?\d+$/.test(value) ? Number(value) : value;
    for (const problem of checker.schema(schema, typed)) problems.push(`${where}: ${key}: ${problem}`);
  };
  for (const [name, value] of Object.entries(pathValues)) checkValue(`path ${name}`, value);
  for (const [name, value] of curl.url.searchParams) checkValue(`query ${name}`, value);
  if (curl.body !== undefined) {
    let body: unknown;
    try {
      body = JSON.parse(curl.body);
    } catch {
      return [...problems, `${where}: the body is not JSON: ${curl.body}`];
    }
    problems.push(...checker.requestBody(curl.method, template, body));
  }
  return problems;
}

describe("README's curl tour", () => {
  const curls = readmeCurls();

  it("finds every curl in the README's shell blocks", () => {
    const written = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap(
      (block) => block[1]!.match(/^\s*curl /gm) ?? [],
    );
    expect(curls.length).toBe(written.length);
    expect(curls.length).toBeGreaterThan(20);
  });

  it("calls only documented operations, with documented parameters and bodies the schemas accept", () => {
    const good = curls.filter((curl) => !curl.body?.includes('"yesterday"'));
    expect(good.flatMap(problemsOf)).toEqual([]);
  });

  it("shows its one bad request refused by the schema: the amount is not an integer", () => {
    // "Bad input: 400 with the path of every problem": `amount: "12.00"` breaks the schema;
    // `occurred_at: "yesterday"` is a string as the schema asks, and ingest refuses its time.
    const bad = curls.filter((curl) => curl.body?.includes('"yesterday"'));
    expect(bad.map((curl) => `${curl.method} ${curl.url.pathname}`)).toEqual(["POST /v1/events"]);
    const problems = problemsOf(bad[0]!).join("\n");
    expect(problems).toMatch(/\/properties\/amount must be integer, got "12.00"/);
  });

  it("would notice a curl to an undocumented route", () => {
    const curl: Curl = {
      line: "curl -s localhost:8787/v1/nowhere",
      method: "GET",
      url: new URL("http://localhost:8787/v1/nowhere"),
      body: undefined,
    };
    expect(problemsOf(curl)).toEqual(["GET /v1/nowhere: no such operation in the document"]);
  });
});
