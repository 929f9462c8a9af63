// The `rebound` command line as a user meets it: help on request (exit 0), a usage error for an
// unknown flag or a missing value (exit 2, naming the flag, nothing written), and the prebuilt bundle
// (dist/cli/rebound.mjs) answering exactly as the TypeScript sources run through tsx.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Io, main } from "../../dsl/cli/main";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "dsl/cli/bin.mjs");
const scratch = mkdtempSync(join(tmpdir(), "rebound-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** `node dsl/cli/bin.mjs ...argv`, as a user runs it; `cli` picks the bundle or the sources. */
function rebound(argv: string[], options: { cwd?: string; cli?: "built" | "source" } = {}): Outcome {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  if (options.cli) env.REBOUND_CLI = options.cli;
  const result = spawnSync(process.execPath, [bin, ...argv], {
    cwd: options.cwd ?? root,
    env,
    encoding: "utf8",
  });
  return { code: result.status ?? -1, out: result.stdout, err: result.stderr };
}

/** The CLI in-process: the same main() the bin runs, without starting node. */
async function run(argv: string[]): Promise<Outcome> {
  let out = "";
  let err = "";
  const io: Io = {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    isTTY: false,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

describe("rebound --help", () => {
  it("prints the usage to stdout and exits 0, however it is asked for", () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const result = rebound(argv);
      expect(result.code, argv.join(" ")).toBe(0);
      expect(result.out).toMatch(/^Usage: rebound <command> \[options\]/);
      expect(result.out).toContain("validate [dir]");
      expect(result.err).toBe("");
    }
  });

  it("prints one command's usage with every option it takes", async () => {
    const help = await run(["explain", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: rebound explain --customer <file> --at <time>/);
    for (const option of ["--customer", "--at", "--offer", "--campaign", "--context", "--reason", "--dir"]) {
      expect(help.out).toContain(option);
    }
    expect((await run(["help", "build"])).out).toMatch(/^Usage: rebound build \[dir\] --out <dir>/);
    expect((await run(["help", "frobnicate"])).code).toBe(2);
  });

  it("without a command, prints the usage to stderr and exits 2", async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^Usage: rebound/);
  });
});

describe("usage errors", () => {
  it("an unknown flag exits 2, names it, then shows the command's usage", () => {
    const result = rebound(["validate", "rules", "--fromat", "json"]);
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    const [first, ...rest] = result.err.split("\n");
    expect(first).toContain("--fromat");
    expect(first).toContain("did you mean --format?");
    expect(rest.join("\n")).toContain("Usage: rebound validate [dir]");
  });

  it("an option of another command is unknown to this one", async () => {
    const result = await run(["validate", "rules", "--customer", "c.yaml"]);
    expect(result.code).toBe(2);
    expect(result.err.split("\n")[0]).toContain("--customer");
  });

  it("`build --out` without a value exits 2 and creates no folder", () => {
    const cwd = mkdtempSync(join(scratch, "build-"));
    const result = rebound(["build", join(root, "rules"), "--out"], { cwd });
    expect(result.code).toBe(2);
    expect(result.err.split("\n")[0]).toBe("--out needs a value");
    expect(result.err).toContain("Usage: rebound build [dir] --out <dir>");
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("`build --out=` (an empty value) exits 2 and creates no folder", () => {
    const cwd = mkdtempSync(join(scratch, "build-empty-"));
    const result = rebound(["build", join(root, "rules"), "--out="], { cwd });
    expect(result.code).toBe(2);
    expect(result.err.split("\n")[0]).toBe("--out needs a value");
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("an option followed by another option has no value", async () => {
    const result = await run(["validate", "rules", "--format", "--help"]);
    expect(result.code).toBe(2);
    expect(result.err.split("\n")[0]).toContain("--format needs a value");
  });

  it("a flag given a value is refused", async () => {
    const result = await run(["validate", "--help=yes"]);
    expect(result.code).toBe(2);
    expect(result.err.split("\n")[0]).toBe("--help takes no value");
  });
});

describe("arguments that keep working", () => {
  it("options before the command, and `--name=value`", async () => {
    const before = await run(["--format", "json", "validate", "rules"]);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.out)).toMatchObject({ ok: true });
    const inline = await run(["validate", "rules", "--format=json"]);
    expect(inline.out).toBe(before.out);
  });

  it("`--offer` alone, last or before another option, and `--offer name`", async () => {
    const customer = join(scratch, "customer.yaml");
    writeFileSync(customer, "id: cus_1\nplan: pro\nstatus: active\nltv: $900\n");
    const base = ["preview", "offer_price", "--customer", customer, "--at", "2026-03-03T15:00:00Z"];
    const last = await run([...base, "--reason", "too_expensive", "--offer", "--format", "json"]);
    const before = await run([...base, "--offer", "--reason", "too_expensive", "--format", "json"]);
    expect(last.code).toBe(0);
    expect(before.out).toBe(last.out);
    expect(JSON.parse(last.out).offer).not.toBeNull();
    const named = await run([...base, "--offer", "price_everyone_else", "--reason", "too_expensive"]);
    expect(named.code).toBe(0);
  });
});

describe("the built CLI", () => {
  const broken = join(scratch, "broken");

  beforeAll(() => {
    execFileSync(process.execPath, [join(root, "dsl/cli/build-cli.mjs")], { cwd: root, stdio: "pipe" });
    cpSync(join(root, "rules"), broken, { recursive: true });
    const offersPath = join(broken, "offers.yaml");
    writeFileSync(
      offersPath,
      readFileSync(offersPath, "utf8").replace("segment: high_value", "segment: high_valu"),
    );
  });

  it.each([
    ["validate rules", ["validate", "rules"]],
    ["validate rules --format json", ["validate", "rules", "--format", "json"]],
    ["validate a rules dir with an error", ["validate", "BROKEN"]],
    ["validate a rules dir with an error --format json", ["validate", "BROKEN", "--format", "json"]],
    ["an unknown flag", ["validate", "--fromat", "json"]],
  ])("prints what the TypeScript sources print: %s", (_name, argv) => {
    const args = argv.map((arg) => (arg === "BROKEN" ? broken : arg));
    const built = rebound(args, { cli: "built" });
    const source = rebound(args, { cli: "source" });
    expect(built).toEqual(source);
    expect(built.code).toBe(argv.includes("BROKEN") ? 1 : argv.includes("--fromat") ? 2 : 0);
  });
});
