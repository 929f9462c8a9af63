/**
 * A local deployment on N D1 shards for the benchmarks that compare 1 shard with 4 (docs/scaling.md),
 * in a state directory of the bench's own: one shard is wrangler.toml as it is (`DB` = `rebound`);
 * more are the config worker/tools/wrangler-dev.ts writes for `SHARDS=<n> npm start` (`DB`, `DB_1` …,
 * each its own database), with the state kept in the bench's directory, not the developer's.
 *
 * Migrations are applied to every database; SQL runs against one shard while the server is stopped
 * (`wrangler d1 execute --local`); `wrangler dev` is started through startDevServer, so cleanUp
 * (local-state.ts) stops it with the others.
 */
import {
  applyLocalMigrations,
  type DevServer,
  freePort,
  runWrangler,
  startDevServer,
  writeShardedConfig,
} from "../worker/tools/wrangler-dev";

/** N local D1 databases behind one Worker config. */
export interface LocalDeployment {
  readonly shards: number;
  /** wrangler's persisted state (D1, queues, R2). */
  readonly persistTo: string;
  /** The wrangler config, or undefined for wrangler.toml (one shard). */
  readonly config: string | undefined;
  /** Database names by shard index (shard 0 is `DB`). */
  readonly databases: readonly string[];
}

/** The config for `shards` databases with its state in `persistTo`, every migration applied to each. */
export async function createDeployment(persistTo: string, shards: number): Promise<LocalDeployment> {
  const sharded = shards > 1 ? writeShardedConfig(shards) : null;
  const deployment: LocalDeployment = {
    shards,
    persistTo,
    config: sharded?.path,
    databases: sharded ? sharded.shards.map((shard) => shard.database_name) : ["rebound"],
  };
  for (const database of deployment.databases) {
    await applyLocalMigrations({ persistTo, config: deployment.config, database, quiet: true });
  }
  return deployment;
}

/** `wrangler d1 execute` arguments for shard `index` of the stopped deployment. */
function executeArgs(deployment: LocalDeployment, index: number): string[] {
  const database = deployment.databases[index];
  if (database === undefined) throw new Error(`the deployment has no shard ${index}`);
  const args = ["d1", "execute", database, "--local", "--persist-to", deployment.persistTo];
  if (deployment.config) args.push("--config", deployment.config);
  return args;
}

/** Runs a SQL file against shard `index` (the server must be stopped). */
export async function executeFile(deployment: LocalDeployment, index: number, file: string): Promise<void> {
  await runWrangler([...executeArgs(deployment, index), "--file", file], { quiet: true });
}

/** Runs SQL statements against shard `index` (server stopped) and answers the last statement's rows. */
export async function query<Row>(deployment: LocalDeployment, index: number, sql: string): Promise<Row[]> {
  const output = await runWrangler([...executeArgs(deployment, index), "--json", "--command", sql], {
    quiet: true,
  });
  const parsed = JSON.parse(output.slice(output.indexOf("["))) as { results: Row[] }[];
  return parsed.at(-1)?.results ?? [];
}

/** The same query on every shard (server stopped), rows by shard index. */
export async function queryEveryShard<Row>(deployment: LocalDeployment, sql: string): Promise<Row[][]> {
  const rows: Row[][] = [];
  for (let index = 0; index < deployment.shards; index += 1)
    rows.push(await query<Row>(deployment, index, sql));
  return rows;
}

/** Starts `wrangler dev` on the deployment with `secrets`; resolves once the Worker answers. */
export async function startDeployment(
  deployment: LocalDeployment,
  secrets: Record<string, string>,
): Promise<DevServer> {
  return startDevServer({
    port: await freePort(),
    persistTo: deployment.persistTo,
    config: deployment.config,
    secrets,
    readyTimeoutMs: 180_000,
  });
}
