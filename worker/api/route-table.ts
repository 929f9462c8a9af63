/**
 * Every HTTP route of Rebound, in one table. worker/api/app.ts registers exactly these, each behind
 * the authentication its `scope` names; test/worker/auth.test.ts walks the registered routes and
 * checks that each one but `GET /healthz` refuses a request without a key.
 *
 * To add a route: export a `RouteDef[]` from a module in worker/api/routes/ and list it here. Its
 * path then answers other methods with 405 and an `Allow` header (worker/api/unmatched-route.ts).
 */
import type { RouteDef } from "./app-env";
import { adminTickRoutes } from "./routes/admin-tick";
import { apiKeyRoutes } from "./routes/api-keys";
import { campaignRunRoutes } from "./routes/campaign-runs";
import { customerRoutes } from "./routes/customers";
import { dashboardRoutes } from "./routes/dashboard";
import { decisionRoutes } from "./routes/decisions";
import { dunningCaseRoutes } from "./routes/dunning-cases";
import { eventRoutes } from "./routes/events";
import { floorRoutes } from "./routes/floor";
import { healthRoutes } from "./routes/healthz";
import { metricsCohortRoutes } from "./routes/metrics-cohorts";
import { metricsFlowRoutes } from "./routes/metrics-flows";
import { offerRoutes } from "./routes/offers";
import { openApiRoutes } from "./routes/openapi";
import { outboxRoutes } from "./routes/outbox";
import { planRoutes } from "./routes/plan";
import { privacyRoutes } from "./routes/privacy";
import { providerWebhookRoutes } from "./routes/provider-webhooks";
import { sendRoutes } from "./routes/sends";
import { shardRoutes } from "./routes/shards";

export const ROUTES: readonly RouteDef[] = [
  ...healthRoutes,
  ...eventRoutes,
  ...customerRoutes,
  ...apiKeyRoutes,
  ...sendRoutes,
  ...outboxRoutes,
  ...adminTickRoutes,
  ...shardRoutes,
  ...planRoutes,
  ...privacyRoutes,
  ...campaignRunRoutes,
  ...dunningCaseRoutes,
  ...decisionRoutes,
  ...offerRoutes,
  ...metricsFlowRoutes,
  ...metricsCohortRoutes,
  ...dashboardRoutes,
  ...floorRoutes,
  ...openApiRoutes(() => ROUTES),
  ...providerWebhookRoutes,
];
