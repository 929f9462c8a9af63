/**
 * OpenAPI documentation of worker/api/routes/dashboard.ts (served at GET /openapi.json): the
 * dashboard's page, its assets and its sign-in. Public routes: the page asks for a key itself.
 */
import type { RouteDoc } from "../app-env";

const TEXT = { type: "string" } as const;

export const dashboardPageDoc: RouteDoc = {
  summary: "The dashboard",
  tag: "Dashboard",
  description:
    "The metrics dashboard (HTML). Signed out it shows the sign-in form; signed in (session cookie holding a `metrics:read` key) it draws the metrics from `/v1/metrics/…`.",
  response: {
    status: 200,
    description: "The page.",
    contentType: "text/html",
    schema: TEXT,
    example: '<!doctype html><html lang="en">…</html>',
  },
  errors: [],
};

export const dashboardScriptDoc: RouteDoc = {
  summary: "The dashboard's script",
  tag: "Dashboard",
  description: "The page's bundled script, cacheable for good under its `?v=` version.",
  response: {
    status: 200,
    description: "The script.",
    contentType: "text/javascript",
    schema: TEXT,
    example: "(()=>{…})();",
  },
  errors: [],
};

export const dashboardStyleDoc: RouteDoc = {
  summary: "The dashboard's style",
  tag: "Dashboard",
  description: "The page's style sheet, cacheable for good under its `?v=` version.",
  response: {
    status: 200,
    description: "The style sheet.",
    contentType: "text/css",
    schema: TEXT,
    example: "body{…}",
  },
  errors: [],
};

export const signInDoc: RouteDoc = {
  summary: "Sign in to the dashboard",
  tag: "Dashboard",
  description:
    "Posts an API key with `metrics:read` (a form field `key`, or JSON `{\"key\": …}`); on success sets the session cookie and redirects to `/dashboard` (303). A browser posting a refused key gets the form back (HTML, 401/403); a JSON caller gets the API's error. A post from another site's page is refused (403).",
  requestBody: {
    schema: { type: "object", required: ["key"], properties: { key: { type: "string" } } },
    example: { key: "rbk_…" },
    description: "`application/x-www-form-urlencoded` (`key=rbk_…`) or JSON.",
  },
  response: {
    status: 303,
    description: "Signed in: the session cookie is set; go to `/dashboard`.",
    contentType: "text/html",
    schema: TEXT,
    example: "",
    headers: {
      Location: { description: "`/dashboard`", schema: TEXT, example: "/dashboard" },
      "Set-Cookie": { description: "The session cookie (HttpOnly, Secure, SameSite=Strict).", schema: TEXT },
    },
  },
  errors: [
    { status: 401, code: "unauthorized", when: "No key, or an unknown or revoked one." },
    {
      status: 403,
      code: "forbidden",
      when: "The key lacks `metrics:read`, or the post came from another site.",
    },
  ],
};

export const signOutDoc: RouteDoc = {
  summary: "Sign out of the dashboard",
  tag: "Dashboard",
  description: "Clears the session cookie and redirects to `/dashboard` (303).",
  response: {
    status: 303,
    description: "Signed out.",
    contentType: "text/html",
    schema: TEXT,
    example: "",
    headers: { Location: { description: "`/dashboard`", schema: TEXT, example: "/dashboard" } },
  },
  errors: [{ status: 403, code: "forbidden", when: "The post came from another site's page." }],
};
