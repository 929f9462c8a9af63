/**
 * The validators for the published schemas, the rule files' (dsl/rules.schema.json) and the test
 * files' (dsl/rules-test.schema.json), compiled by ajv when the CLI runs from source. The bundle
 * `npm run build:cli` writes (dsl/cli/build-cli.mjs) replaces this module with the same validators
 * generated ahead of time by ajv's standalone code, so the built CLI does not spend its start
 * compiling the schemas.
 *
 * Stage: CLI, used by dsl/cli/schema-check.ts and dsl/cli/test-file-check.ts.
 */
import { Ajv, type ValidateFunction } from "ajv";
import rulesSchema from "../rules.schema.json";
import rulesTestSchema from "../rules-test.schema.json";

/** The options both ways of compiling use, so they accept and report alike. */
export const RULES_VALIDATOR_OPTIONS = { allErrors: false, strict: false } as const;

/** The compiled rule-file validator. */
export function rulesValidator(): ValidateFunction {
  return new Ajv(RULES_VALIDATOR_OPTIONS).compile(rulesSchema); // build-time: the CLI from source, in Node only
}

/** The compiled test-file validator. */
export function rulesTestValidator(): ValidateFunction {
  return new Ajv(RULES_VALIDATOR_OPTIONS).compile(rulesTestSchema); // build-time: the CLI from source, in Node only
}
