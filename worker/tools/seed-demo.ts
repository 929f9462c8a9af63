/**
 * `npm start`'s demo data: six simulated months of a small SaaS company (demo-world.ts), lived
 * through the running Worker's own API (demo-simulate.ts), loaded once. An interrupted run keeps
 * its progress beside the local D1 state and resumes on the next start; deleting .wrangler/state
 * starts over.
 */
import { join } from "node:path";
import { type SimulationResult, simulateDemo, summaryLines } from "./demo-simulate";
import { REPO_ROOT } from "./wrangler-dev";

/** Where npm start keeps an unfinished run's progress (inside wrangler's local state). */
export const DEMO_PROGRESS_FILE = join(REPO_ROOT, ".wrangler/state/demo-simulation.json");

/**
 * Loads the demo into `url` unless it is there already, printing a few progress lines.
 *
 * @param anchor the demo world's "now" (the simulated days end before it); today's UTC midnight in npm start
 */
export async function seedDemoData(url: string, adminKey: string, anchor: number): Promise<SimulationResult> {
  return simulateDemo({
    url,
    adminKey,
    anchor,
    progressFile: DEMO_PROGRESS_FILE,
    log: (line) => console.log(line),
  });
}

/** What to print about a seeding, one line each. */
export function seedingLines(result: SimulationResult): string[] {
  switch (result.outcome) {
    case "simulated":
      return ["demo data loaded:", ...summaryLines(result.summary).map((line) => `  ${line}`)];
    case "already_loaded":
      return ["demo data already loaded (delete .wrangler/state to simulate it again)"];
    case "stopped":
      return [`demo data: stopped at day ${result.day + 1}; the next start resumes there`];
    case "foreign_data":
      return [`demo data not loaded: ${result.message}`];
  }
}
