/**
 * `/dashboard`: the metrics dashboard the Worker serves (docs/dashboard.md). Public routes, since a
 * browser arrives without a key; none of them answers a figure:
 *
 * - `GET /dashboard`: the HTML shell, a sign-in form or the empty frame of the charts;
 * - `GET /dashboard/app.js`, `GET /dashboard/app.css`: the page's script and style, compiled from
 *   worker/dashboard/ by worker/tools/build-dashboard.ts into worker/generated/dashboard-assets.ts;
 * - `POST /dashboard/session` (form or JSON `key`): checks the key (it must hold `metrics:read` or
 *   `admin`) and keeps it in the `rebound_session` cookie (HttpOnly, Secure, SameSite=Strict), so it
 *   is never in a URL nor readable by the page's script; `POST /dashboard/session/end` clears it.
 *
 * The page's script reads `GET /v1/metrics/...`, which accept that cookie in place of the
 * Authorization header (worker/auth/authenticate.ts `presentedCredential`).
 */
import type { Context } from "hono";
import { authenticate, SESSION_COOKIE, sessionCookie } from "../../auth/authenticate";
import { allows } from "../../auth/keys";
import { ApiError } from "../../errors";
import {
  DASHBOARD_SCRIPT,
  DASHBOARD_SHELL,
  DASHBOARD_STYLE,
  type DashboardAsset,
} from "../../generated/dashboard-assets";
import type { AppEnv, RouteDef } from "../app-env";
import {
  dashboardPageDoc,
  dashboardScriptDoc,
  dashboardStyleDoc,
  signInDoc,
  signOutDoc,
} from "../docs/dashboard";
import { readJsonBody } from "../json-body";

/** Headers on every dashboard response: the page runs only its own script and style. */
const SECURITY_HEADERS = Object.freeze({
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  "x-content-type-options": "nosniff",
  // `same-origin`, not `no-referrer`: under no-referrer a browser sends `Origin: null` on the page's
  // own form posts, and the sign-in checks the Origin.
  "referrer-policy": "same-origin",
});

/** A sign-in body is a key and nothing more; anything longer is not one. */
const MAX_SIGN_IN_BYTES = 4096;

const SESSION_ATTRIBUTES = "HttpOnly; Secure; SameSite=Strict; Path=/";
/** A sign-in lasts a working day: a cookie left in a shared browser does not keep the key for good. */
const SESSION_SECONDS = 8 * 60 * 60;

/** What the shell says above the form after a refused sign-in, or nothing. */
type SignInState = { signedIn: true } | { signedIn: false; error?: string };

/** The shell with its two slots filled: the session state the CSS keys on, and the form's error. */
function shellPage(state: SignInState): string {
  const error = state.signedIn ? "" : (state.error ?? "");
  return DASHBOARD_SHELL.replace("%%session%%", () => (state.signedIn ? "signed-in" : "signed-out")).replace(
    "%%sign_in_error%%",
    () => escapeHtml(error),
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function htmlResponse(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

function showDashboard(c: Context<AppEnv>): Response {
  // Whether a cookie is there decides only which half of the shell shows; the key is checked when
  // the page's script reads the metrics with it, and a refused one brings the form back.
  const signedIn = sessionCookie(c.req.header("cookie") ?? null) !== undefined;
  return htmlResponse(shellPage(signedIn ? { signedIn: true } : { signedIn: false }), 200);
}

/**
 * Serves a compiled asset. The shell links it as `?v=<version>`: that URL's content never changes, so
 * it may be cached for good; any other request for it revalidates by ETag.
 */
function serveAsset(asset: DashboardAsset) {
  return (c: Context<AppEnv>): Response => {
    const immutable = c.req.query("v") === asset.version;
    const headers = {
      ...SECURITY_HEADERS,
      "content-type": asset.contentType,
      etag: asset.etag,
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    };
    const ifNoneMatch = c.req.header("if-none-match");
    if (ifNoneMatch?.split(",").some((tag) => tag.trim() === asset.etag)) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(asset.body, { status: 200, headers });
  };
}

/** Refuses a sign-in posted from another site's page (a login CSRF would sign the browser in). */
function refuseCrossSite(c: Context<AppEnv>): Response | null {
  const origin = c.req.header("origin");
  if (origin === undefined || origin === new URL(c.req.url).origin) return null;
  return htmlResponse(shellPage({ signedIn: false, error: "Sign in from this page." }), 403);
}

/** The key a sign-in posts, from a form or a JSON body; "" when it has none. */
async function postedKey(c: Context<AppEnv>): Promise<string> {
  const contentType = c.req.header("content-type") ?? "";
  if (/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    const body = await readJsonBody(c.req.raw, MAX_SIGN_IN_BYTES);
    const key = typeof body === "object" && body !== null ? (body as { key?: unknown }).key : undefined;
    return typeof key === "string" ? key.trim() : "";
  }
  if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) return "";
  if (Number(c.req.header("content-length") ?? MAX_SIGN_IN_BYTES + 1) > MAX_SIGN_IN_BYTES) return "";
  return (new URLSearchParams(await c.req.text()).get("key") ?? "").trim();
}

/** Why a key may not open the dashboard, or null when it may. */
async function refusal(
  key: string,
  env: AppEnv["Bindings"],
): Promise<{ status: 401 | 403; why: string } | null> {
  if (key === "") return { status: 401, why: "Enter an API key." };
  try {
    const principal = await authenticate(`Bearer ${key}`, env);
    if (allows(principal.scopes, "metrics:read")) return null;
    return { status: 403, why: 'This key lacks the "metrics:read" scope.' };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      return { status: 401, why: "That key is unknown or revoked." };
    }
    throw error;
  }
}

async function signIn(c: Context<AppEnv>): Promise<Response> {
  const crossSite = refuseCrossSite(c);
  if (crossSite) return crossSite;
  const json = /json/i.test(c.req.header("content-type") ?? "");
  const key = await postedKey(c);
  const refused = await refusal(key, c.env);
  if (refused) {
    // A JSON caller gets the API's own error; a browser gets the form back, saying why.
    if (json)
      throw new ApiError(refused.status, refused.status === 401 ? "unauthorized" : "forbidden", refused.why);
    return htmlResponse(shellPage({ signedIn: false, error: refused.why }), refused.status);
  }
  return htmlResponse("", 303, {
    location: "/dashboard",
    "set-cookie": `${SESSION_COOKIE}=${encodeURIComponent(key)}; Max-Age=${SESSION_SECONDS}; ${SESSION_ATTRIBUTES}`,
  });
}

function signOut(c: Context<AppEnv>): Response {
  const crossSite = refuseCrossSite(c);
  if (crossSite) return crossSite;
  return htmlResponse("", 303, {
    location: "/dashboard",
    "set-cookie": `${SESSION_COOKIE}=; Max-Age=0; ${SESSION_ATTRIBUTES}`,
  });
}

export const dashboardRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/dashboard", scope: "public", handler: showDashboard, doc: dashboardPageDoc },
  {
    method: "GET",
    path: "/dashboard/app.js",
    scope: "public",
    handler: serveAsset(DASHBOARD_SCRIPT),
    doc: dashboardScriptDoc,
  },
  {
    method: "GET",
    path: "/dashboard/app.css",
    scope: "public",
    handler: serveAsset(DASHBOARD_STYLE),
    doc: dashboardStyleDoc,
  },
  { method: "POST", path: "/dashboard/session", scope: "public", handler: signIn, doc: signInDoc },
  { method: "POST", path: "/dashboard/session/end", scope: "public", handler: signOut, doc: signOutDoc },
];
