// drizzle-kit: generates SQL migrations in migrations/ from the schema in worker/db/schema/.
// Review every generated file by hand before committing (see README, "Migrations").
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./worker/db/schema/index.ts",
  out: "./migrations",
});
