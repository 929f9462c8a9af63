/**
 * Checking `*.test.yaml` files before any case runs: YAML syntax, the shape of each case, every key
 * a case names (segments, offers, reasons, rewards, messages, campaigns, win-back sequences,
 * inactivity rules), the customer it describes (money, times, fields), and finally the published
 * test schema (dsl/rules-test.schema.json). Every problem is a located diagnostic at the value that
 * is wrong (a misspelt reason is underlined, not the case's `name:`), exactly like a rule error.
 * `rebound validate` reports them; `rebound test` reports them and runs only the cases that passed.
 *
 * Stage: CLI, after the rules are checked and compiled. Next: dsl/cli/rule-tests.ts runs the cases.
 */

import type { ValidateFunction } from "ajv";
import { parse } from "yaml";
import type { Diagnostic } from "../errors";
import { parseTimestampText } from "../expr/lexer";
import { LIMITS } from "../limits";
import type { RuleSource } from "../rules/check";
import {
  diagnosticAt,
  loadRuleFile,
  positionOf,
  type SourceFile,
  type YamlMap,
  type YamlNode,
} from "../rules/load";
import { Reader, Reporter } from "../rules/reader";
import { OFFER_CONTEXTS } from "../rules/ruleset";
import type { Ruleset } from "../runtime/ruleset";
import { closest } from "../suggest";
import { type CustomerInput, customerInput, InputError, isRelativeMoment } from "./customer-input";
import { keyAtPath, nodeAtPath } from "./input-location";
import { rulesTestValidator } from "./schema-validator";

/** One case that passed every check, ready to run. */
export interface TestCase {
  source: SourceFile;
  node: YamlMap;
  name: string;
  line: number;
  at: number;
  input: CustomerInput;
  expect: YamlMap;
}

export interface CheckedTests {
  cases: TestCase[];
  diagnostics: Diagnostic[];
}

/** When a case gives no `at`: fixed, so a case without one is still deterministic. */
export const DEFAULT_AT = Date.UTC(2026, 0, 1);

const CASE_FIELDS = ["name", "at", "customer", "events", "history", "expect"];
export const EXPECT_FIELDS = [
  "segments",
  "offer",
  "campaigns",
  "dunning",
  "card_reminders",
  "inactivity",
  "winback",
  "steps",
];
export const OFFER_FIELDS = [
  "context",
  "reason",
  "key",
  "reward",
  "message",
  "variant",
  "none",
  "expires_at",
  "expires_in",
  "subject",
  "body",
];
export const STEP_FIELDS = [
  "programme",
  "day",
  "days_before",
  "rule",
  "message",
  "offer",
  "final",
  "subject",
  "body",
];
export const PROGRAMMES = ["dunning", "card_expiry", "inactivity", "winback"] as const;
const CAMPAIGN_FIELDS = ["audience", "holdout", "variant"];
const DURATION_RE = /^(\d+[wdhms])+$/;

let testValidator: ValidateFunction | undefined;

/** Checks every test file against a compiled ruleset; returns the cases that may run. */
export function checkTestFiles(ruleset: Ruleset, files: readonly RuleSource[]): CheckedTests {
  const cases: TestCase[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const checked = checkTestFile(ruleset, file);
    diagnostics.push(...checked.diagnostics);
    cases.push(...checked.cases);
  }
  return { cases, diagnostics };
}

function checkTestFile(ruleset: Ruleset, file: RuleSource): CheckedTests {
  const loaded = loadRuleFile(file.path, file.text);
  if (!loaded.root) return { cases: [], diagnostics: loaded.diagnostics };
  const report = new Reporter(LIMITS.maxDiagnostics);
  for (const d of loaded.diagnostics) report.add(d);
  const reader = new Reader(loaded.source, report);
  const cases: TestCase[] = [];
  const root = loaded.root.kind === "map" ? loaded.root : undefined;
  const testsNode = root?.pairs.find((p) => p.key.value === "tests")?.value;
  if (!root || !testsNode || testsNode.kind !== "seq") {
    reader.fail(loaded.root, "schema_violation", "a test file has `tests:`, a list of cases");
    return { cases, diagnostics: report.diagnostics };
  }
  reader.fields(root, "a test file", ["tests"]);
  for (const caseNode of testsNode.items) {
    const before = report.diagnostics.length;
    const checked = checkCase(ruleset, reader, caseNode);
    if (checked && report.diagnostics.length === before) cases.push(checked);
  }
  // The published schema, for what the checks above do not read: one error per file, at its place.
  if (report.diagnostics.length === 0) {
    const schemaError = schemaDiagnostic(loaded.source, loaded.root, file.text);
    if (schemaError) return { cases: [], diagnostics: [schemaError] };
  }
  return { cases, diagnostics: report.diagnostics };
}

function checkCase(ruleset: Ruleset, reader: Reader, caseNode: YamlNode): TestCase | undefined {
  const map = reader.map(caseNode, "a test case");
  if (!map) return undefined;
  const fields = reader.fields(map, "a test case", CASE_FIELDS, ["expect"]);
  const source = reader.source;
  const line = positionOf(source, map.start).line;
  const nameNode = fields.get("name");
  const name =
    nameNode?.kind === "scalar" && typeof nameNode.value === "string"
      ? nameNode.value
      : `case at line ${line}`;
  const atNode = fields.get("at");
  const at = atNode ? caseMoment(reader, atNode) : DEFAULT_AT;
  const expectNode = fields.get("expect");
  const expect = expectNode ? reader.map(expectNode, "`expect`") : undefined;
  if (expect) checkExpect(ruleset, reader, expect);
  if (at === undefined || !expect) return undefined;
  const data = Object.fromEntries([...fields].map(([key, node]) => [key, plain(node)]));
  try {
    const input = customerInput(ruleset, data, at);
    return { source, node: map, name, line, at, input, expect };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const unknownField = /: unknown field /.test(error.message);
    const node = (unknownField ? keyAtPath(map, error.path) : undefined) ?? nodeAtPath(map, error.path);
    reader.fail(node, "schema_violation", error.message, error.hint);
    return undefined;
  }
}

function checkExpect(ruleset: Ruleset, reader: Reader, expect: YamlMap): void {
  const fields = reader.fields(expect, "`expect`", EXPECT_FIELDS);
  const segments = fields.get("segments");
  for (const item of segments ? (reader.seq(segments, "`segments`") ?? []) : []) {
    known(reader, item, new Set(ruleset.segments.keys()), "segment", "unknown_segment");
  }
  const offer = fields.get("offer");
  if (offer && !(offer.kind === "scalar" && offer.value === "none")) {
    for (const item of offer.kind === "seq" ? offer.items : [offer])
      checkOfferExpectation(ruleset, reader, item);
  }
  const campaigns = fields.get("campaigns");
  const campaignMap = campaigns ? reader.map(campaigns, "`campaigns`") : undefined;
  for (const pair of campaignMap?.pairs ?? []) {
    known(reader, pair.key, new Set(ruleset.campaigns.keys()), "campaign", "unknown_rule");
    if (pair.value.kind === "map")
      reader.fields(pair.value, `campaign \`${pair.key.value}\``, CAMPAIGN_FIELDS);
  }
  const inactivity = fields.get("inactivity");
  for (const item of inactivity ? (reader.seq(inactivity, "`inactivity`") ?? []) : []) {
    known(
      reader,
      item,
      new Set(ruleset.inactivity.map((rule) => rule.ir.key)),
      "inactivity rule",
      "unknown_rule",
    );
  }
  const winback = fields.get("winback");
  if (winback?.kind === "map") {
    const sequence = reader.fields(winback, "`winback`", ["sequence", "day"]).get("sequence");
    if (sequence)
      known(
        reader,
        sequence,
        new Set(ruleset.winback.map((s) => s.ir.key)),
        "win-back sequence",
        "unknown_rule",
      );
  }
  const steps = fields.get("steps");
  for (const item of steps ? (reader.seq(steps, "`steps`") ?? []) : [])
    checkStepExpectation(ruleset, reader, item);
}

function checkOfferExpectation(ruleset: Ruleset, reader: Reader, node: YamlNode): void {
  const map = reader.map(node, "an offer expectation");
  if (!map) return;
  const fields = reader.fields(map, "an offer expectation", OFFER_FIELDS);
  const context = fields.get("context");
  if (context && !(context.kind === "scalar" && OFFER_CONTEXTS.includes(context.value as never))) {
    reader.fail(
      context,
      "schema_violation",
      `unknown offer context ${reader.describe(context)}`,
      `contexts: ${OFFER_CONTEXTS.join(", ")}`,
    );
  }
  const reason = fields.get("reason");
  if (reason) known(reader, reason, new Set(ruleset.reasons.keys()), "reason", "unknown_reason");
  const key = fields.get("key");
  if (key) known(reader, key, new Set(ruleset.offers.map((o) => o.key)), "offer", "unknown_offer");
  const reward = fields.get("reward");
  if (reward) known(reader, reward, new Set(ruleset.rewards.keys()), "reward", "unknown_reward");
  const message = fields.get("message");
  if (message) known(reader, message, new Set(ruleset.messages.keys()), "message", "unknown_message");
  const expiresIn = fields.get("expires_in");
  if (expiresIn) duration(reader, expiresIn);
  const expiresAt = fields.get("expires_at");
  if (expiresAt) caseMoment(reader, expiresAt, "`expires_at`");
  for (const name of ["subject", "body"] as const) {
    const text = fields.get(name);
    if (text) textExpectation(reader, text, name);
  }
}

function checkStepExpectation(ruleset: Ruleset, reader: Reader, node: YamlNode): void {
  const map = reader.map(node, "a step expectation");
  if (!map) return;
  const fields = reader.fields(map, "a step expectation", STEP_FIELDS);
  const programme = fields.get("programme");
  if (programme && !(programme.kind === "scalar" && PROGRAMMES.includes(programme.value as never))) {
    reader.fail(
      programme,
      "schema_violation",
      `unknown programme ${reader.describe(programme)}`,
      `programmes: ${PROGRAMMES.join(", ")}`,
    );
  }
  if (!fields.has("day") && !fields.has("days_before")) {
    reader.fail(
      map,
      "schema_violation",
      "a step expectation needs `day` (or `days_before` for a card reminder)",
    );
  }
  for (const name of ["day", "days_before"] as const) {
    const day = fields.get(name);
    if (day) reader.integer(day, `\`${name}\``, 0, 3650);
  }
  const rule = fields.get("rule");
  if (rule)
    known(reader, rule, new Set(ruleset.inactivity.map((r) => r.ir.key)), "inactivity rule", "unknown_rule");
  const message = fields.get("message");
  if (message) known(reader, message, new Set(ruleset.messages.keys()), "message", "unknown_message");
  const offer = fields.get("offer");
  if (offer && !(offer.kind === "scalar" && offer.value === "none")) {
    known(reader, offer, new Set(ruleset.offers.map((o) => o.key)), "offer", "unknown_offer");
  }
  const final = fields.get("final");
  for (const item of final ? (final.kind === "seq" ? final.items : [final]) : []) {
    if (!(item.kind === "scalar" && (item.value === "cancel" || item.value === "webhook"))) {
      reader.fail(
        item,
        "schema_violation",
        `unknown final action ${reader.describe(item)}`,
        "actions: cancel, webhook",
      );
    }
  }
  for (const name of ["subject", "body"] as const) {
    const text = fields.get(name);
    if (text) textExpectation(reader, text, name);
  }
}

/** `subject:` / `body:`: the exact text, or `{ contains: text }` / `{ contains: [texts] }`. */
function textExpectation(reader: Reader, node: YamlNode, name: string): void {
  if (node.kind === "scalar" && typeof node.value === "string") return;
  const map = node.kind === "map" ? node : undefined;
  const contains = map
    ? reader.fields(map, `\`${name}\``, ["contains"], ["contains"]).get("contains")
    : undefined;
  if (!map) {
    reader.fail(node, "schema_violation", `\`${name}\` is the exact text, or { contains: text }`);
    return;
  }
  for (const item of contains ? (contains.kind === "seq" ? contains.items : [contains]) : []) {
    reader.string(item, `\`${name}.contains\``);
  }
}

function known(
  reader: Reader,
  node: YamlNode,
  keys: ReadonlySet<string>,
  kind: string,
  code:
    | "unknown_segment"
    | "unknown_reason"
    | "unknown_offer"
    | "unknown_reward"
    | "unknown_message"
    | "unknown_rule",
): void {
  const key = reader.string(node, `a ${kind}`);
  if (key === undefined || keys.has(key)) return;
  const suggestion = closest(key, keys);
  reader.fail(
    node,
    code,
    `unknown ${kind} \`${key}\``,
    suggestion
      ? `did you mean \`${suggestion}\`?`
      : keys.size > 0
        ? `known: ${[...keys].slice(0, 12).join(", ")}`
        : `the rules define no ${kind}s`,
  );
}

function duration(reader: Reader, node: YamlNode): void {
  if (node.kind === "scalar" && typeof node.value === "string" && DURATION_RE.test(node.value)) return;
  reader.fail(
    node,
    "bad_duration",
    `\`expires_in\` must be a duration such as 14d or 36h, found ${reader.describe(node)}`,
    typeof (node as { value?: unknown }).value === "number"
      ? `write ${(node as { value: number }).value}d for days`
      : undefined,
  );
}

/**
 * A fixed moment (a case's `at`, an offer's `expires_at`), or undefined once a bad one is reported.
 * Only an absolute ISO 8601 time is accepted: `now` or `10d ago` would move with the clock (or,
 * measured from nothing, land in 1970), and a case must give the same answer every day.
 */
export function caseMoment(reader: Reader, node: YamlNode, what = "`at`"): number | undefined {
  const text = node.kind === "scalar" && typeof node.value === "string" ? node.value.trim() : null;
  const ms = text === null ? null : parseTimestampText(text);
  if (ms !== null) return ms;
  const written =
    node.kind === "scalar" ? JSON.stringify(node.value) : `a ${node.kind === "map" ? "mapping" : "list"}`;
  const relative = text !== null && isRelativeMoment(text);
  reader.fail(
    node,
    "bad_timestamp",
    relative
      ? `${what}: ${written} depends on when the test runs; a test case runs at a fixed time`
      : `${what}: ${written} is not an absolute ISO 8601 time`,
    'write a date (2026-03-03) or a date-time with a zone (2026-03-03T15:00:00Z); times inside the case may be relative to it ("10d ago")',
  );
  return undefined;
}

function schemaDiagnostic(source: SourceFile, root: YamlNode, text: string): Diagnostic | undefined {
  testValidator ??= rulesTestValidator();
  let data: unknown;
  try {
    data = parse(text);
  } catch {
    return undefined;
  }
  if (testValidator(data)) return undefined;
  const error = testValidator.errors?.[0];
  if (!error) return undefined;
  const path = error.instancePath
    .split("/")
    .slice(1)
    .map((raw) => {
      const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      return /^\d+$/.test(part) ? Number(part) : part;
    });
  const node = nodeAtPath(root, path);
  const newline = source.text.indexOf("\n", node.start);
  const end = Math.max(node.start + 1, Math.min(node.end, newline === -1 ? source.text.length : newline));
  return diagnosticAt(
    source,
    { start: node.start, end },
    "schema_violation",
    `${error.instancePath || "the file"} ${error.message ?? "does not match the schema"} (rules-test.schema.json)`,
  );
}

/** The plain JavaScript value of a positioned YAML node. */
export function plain(node: YamlNode): unknown {
  if (node.kind === "scalar") return node.value;
  if (node.kind === "seq") return node.items.map(plain);
  return Object.fromEntries(node.pairs.map((p) => [String(p.key.value), plain(p.value)]));
}

/** YAML syntax errors of test files, for when the rules themselves do not compile. */
export function testSyntaxDiagnostics(files: readonly RuleSource[]): Diagnostic[] {
  return files.flatMap((file) => loadRuleFile(file.path, file.text).diagnostics);
}
