/**
 * `GET /healthz`: liveness for load balancers and `npm start`; the only public route.
 */
import type { RouteDef } from "../app-env";

export const healthRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/healthz", scope: "public", handler: (c) => c.json({ ok: true }) },
];
