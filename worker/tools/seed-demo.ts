/**
 * `npm start`'s demo data: six simulated months of a small SaaS company (demo-world.ts), lived
 * through the running Worker's own API (demo-simulate.ts), loaded once. An interrupted run keeps
 * its progress beside the local D1 state and resumes on the next start; deleting .wrangler/state
 * starts over. A local deployment on several shards (`SHARDS=4 npm start`) has databases of its own
 * and so a progress file of its own; its customers land on their shards through the API.
 */
import { join } from "node:path";
import { type SimulationResult, simulateDemo, summaryLines } from "./demo-simulate";
import { REPO_ROOT } from "./wrangler-dev";

/** Where npm start keeps an unfinished run's progress (inside wrangler's local state). */
export const DEMO_PROGRESS_FILE = join(REPO_ROOT, ".wrangler/state/demo-simulation.json");

/** The progress file of the local deployment on `shards` databases (the one-database one's is DEMO_PROGRESS_FILE). */
export function demoProgressFile(shards: number): string {
  return shards === 1
    ? DEMO_PROGRESS_FILE
    : join(REPO_ROOT, `.wrangler/state/demo-simulation-shards-${shards}.json`);
}

/**
 * Loads the demo into `url` unless it is there already, printing a few progress lines.
 *
 * @param anchor the demo world's "now" (the simulated days end before it); today's UTC midnight in npm start
 * @param progressFile where the run's progress is kept (demoProgressFile of the deployment's shard count)
 */
export async function seedDemoData(
  url: string,
  adminKey: string,
  anchor: number,
  progressFile: string = DEMO_PROGRESS_FILE,
): Promise<SimulationResult> {
  return simulateDemo({
    url,
    adminKey,
    anchor,
    progressFile,
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
