import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("has D1", async () => {
  const row = await env.DB.prepare("select 1 as one").first<{ one: number }>();
  expect(row?.one).toBe(1);
  const res = await exports.default.fetch("http://x/healthz");
  expect(res.status).toBe(200);
});
