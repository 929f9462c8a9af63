// The one error boundary: known errors keep their code; anything else is logged and hidden.
import { env } from "cloudflare:workers";
import { afterEach, expect, it, vi } from "vitest";
import { createApp } from "../../worker/api/app";
import { ApiError } from "../../worker/errors";

afterEach(() => {
  vi.restoreAllMocks();
});

const failing = createApp([
  {
    method: "GET",
    path: "/boom",
    scope: "public",
    handler: () => {
      throw new Error("D1_ERROR: no such column: secret_column at offset 42");
    },
  },
  {
    method: "GET",
    path: "/teapot",
    scope: "public",
    handler: () => {
      throw new ApiError(403, "forbidden", "Not yours.", [{ path: "/id", message: "taken" }]);
    },
  },
]);

it("answers an unexpected error with a 500 that leaks nothing and logs it as one JSON line", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const response = await failing.fetch(new Request("http://rebound.test/boom"), env);
  expect(response.status).toBe(500);
  const text = await response.text();
  expect(text).not.toContain("secret_column");
  expect(text).not.toContain("D1_ERROR");
  const body = JSON.parse(text);
  expect(body.error.code).toBe("internal");

  expect(logged).toHaveBeenCalledTimes(1);
  const line = JSON.parse(String(logged.mock.calls[0]?.[0]));
  expect(line).toMatchObject({ level: "error", event: "unhandled_error", method: "GET", path: "/boom" });
  expect(line.error.message).toContain("secret_column");
  expect(body.error.message).toContain(line.request_id);
});

it("answers a known error with its status, code and details", async () => {
  const response = await failing.fetch(new Request("http://rebound.test/teapot"), env);
  expect(response.status).toBe(403);
  expect(await response.json()).toEqual({
    error: { code: "forbidden", message: "Not yours.", details: [{ path: "/id", message: "taken" }] },
  });
});

it("answers an unknown path with a JSON 404", async () => {
  const response = await failing.fetch(new Request("http://rebound.test/nowhere"), env);
  expect(response.status).toBe(404);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
});
