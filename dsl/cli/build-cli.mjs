// `npm run build:cli`: bundles the `rebound` CLI into one ES module, dist/cli/rebound.mjs, which
// dsl/cli/bin.mjs runs while it is newer than every language source, so the CLI starts without
// loading TypeScript. The schema validators (rule files, test files) are generated here by ajv's standalone code
// (same options as dsl/cli/schema-validator.ts, which compiles it at run time from source) and
// bundled in its place, so the built CLI does not compile the schema at every start either.
//
// Plain JavaScript run by node, so building the CLI does not wait for tsx.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));
const outfile = `${root}dist/cli/rebound.mjs`;

// Kept equal to RULES_VALIDATOR_OPTIONS in dsl/cli/schema-validator.ts (test/dsl/cli.test.ts compares the outputs).
const ajv = new Ajv({ allErrors: false, strict: false, code: { source: true, esm: true } });
const rulesSchema = JSON.parse(readFileSync(`${root}dsl/rules.schema.json`, "utf8"));
const testSchema = JSON.parse(readFileSync(`${root}dsl/rules-test.schema.json`, "utf8"));
// ajv compiles the schemas here, in Node, so the bundle carries generated code, not ajv.compile.
ajv.addSchema(rulesSchema); // build-time
ajv.addSchema(testSchema); // build-time
const validatorCode = `${standaloneCode(ajv, { rulesSchemaValidator: rulesSchema.$id, testSchemaValidator: testSchema.$id })}
export function rulesValidator() {
  return rulesSchemaValidator;
}
export function rulesTestValidator() {
  return testSchemaValidator;
}
`;

/** Swaps dsl/cli/schema-validator.ts for the generated validator. */
const precompiledSchema = {
  name: "precompiled-schema-validator",
  setup(bundler) {
    bundler.onLoad({ filter: /[\\/]dsl[\\/]cli[\\/]schema-validator\.ts$/ }, () => ({
      contents: validatorCode,
      loader: "js",
      resolveDir: root,
    }));
  },
};

await build({
  entryPoints: [`${root}dsl/cli/main.ts`],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // CommonJS dependencies (ajv's runtime helpers) call require(); give the ES module one.
  banner: {
    js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
  },
  plugins: [precompiledSchema],
  logLevel: "warning",
});
console.log(`build-cli: ${outfile.slice(root.length)}`);
