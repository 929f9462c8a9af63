// Two test projects: the language runs in Node, the Worker runs inside workerd with real D1 and queues.

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
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
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
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/worker/setup.ts"],
          // A loopback HTTP server (Node side) that plays webhook receivers and email providers.
          globalSetup: ["./test/loopback/receiver.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
