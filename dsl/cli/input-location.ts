/**
 * Finding a value in a positioned YAML tree by its key path (`["customer", "ltv"]`,
 * `["events", 0, "properties", "amount"]`), so an error about a customer file or a test case points
 * at the value that is wrong, not at the case around it.
 *
 * Stage: CLI, between dsl/cli/customer-input.ts (which names paths) and the located diagnostics.
 */
import { getPair, type YamlNode } from "../rules/load";

/**
 * The node at `path` under `root`, or the deepest node on the way when the path leaves the tree
 * (a missing key is blamed on the mapping that lacks it).
 *
 * @example nodeAtPath(caseNode, ["customer", "ltv"]) // the scalar `300` of `customer: { ltv: 300 }`
 */
export function nodeAtPath(root: YamlNode, path: readonly (string | number)[]): YamlNode {
  let node = root;
  for (const part of path) {
    const next =
      node.kind === "map"
        ? getPair(node, String(part))?.value
        : node.kind === "seq" && typeof part === "number"
          ? node.items[part]
          : undefined;
    if (!next) return node;
    node = next;
  }
  return node;
}

/** The key node of the last step of `path` when it names a mapping key (for "unknown field" errors). */
export function keyAtPath(root: YamlNode, path: readonly (string | number)[]): YamlNode | undefined {
  const parent = nodeAtPath(root, path.slice(0, -1));
  const last = path.at(-1);
  return parent.kind === "map" && last !== undefined ? getPair(parent, String(last))?.key : undefined;
}
