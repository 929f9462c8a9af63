// Three test projects: the language and the smoke tests run in Node, the Worker inside workerd with
// real D1 and queues, and the browser tests last, one at a time.

import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const migrationsDir = fileURLToPath(new URL("./migrations", import.meta.url));

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/dsl/**/*.test.ts", "test/smoke/**/*.test.ts", "test/architecture/**/*.test.ts"],
          exclude: ["test/smoke/**/*-browser.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Pages in headless Chromium (the dashboard, /reference): after everything else and one at a
        // time, so a page's waits measure the page and not two cores shared with workerd and vitest.
        test: {
          name: "browser",
          include: ["test/smoke/**/*-browser.test.ts"],
          environment: "node",
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Tests step through time like `npm start` does (test/worker/tick-future.test.ts
              // checks the production default, where a future tick is refused).
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(migrationsDir),
                REBOUND_ALLOW_FUTURE_TICKS: "true",
              },
              // Spare databases for the sharding tests (test/worker/shard-env.ts): DB_1 … DB_7 make
              // a four-shard deployment and a one-shard one side by side, or a growth from 4 to 5.
              // The tests' default stays SHARDS unset: one database, DB.
              d1Databases: {
                DB: "00000000-0000-4000-8000-000000000000",
                ...Object.fromEntries(
                  Array.from({ length: 7 }, (_, i) => [`DB_${i + 1}`, `rebound-test-shard-${i + 1}`]),
                ),
              },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          sequence: { groupOrder: 0 },
          setupFiles: ["./test/worker/setup.ts"],
          // A loopback HTTP server (Node side) that plays webhook receivers and email providers.
          globalSetup: ["./test/loopback/receiver.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
