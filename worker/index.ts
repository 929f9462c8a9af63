/**
 * Rebound's entry points: HTTP API, scheduled tick and queue consumer. Each lives in its own module.
 */
import type { Env } from "./env";

export default {
  async fetch(_request, _env, _ctx) {
    return new Response("ok");
  },
} satisfies ExportedHandler<Env>;
