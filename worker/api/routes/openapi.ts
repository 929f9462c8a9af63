/**
 * `GET /openapi.json`: the API's OpenAPI 3.1 document (worker/api/openapi/document.ts), built once
 * per isolate from the route table. `GET /reference`: the document rendered by Scalar, whose
 * bundle Workers static assets serve at `/reference/scalar.js` (worker/tools/build-reference.ts).
 * Both public: they describe the API and hold no data.
 */
import type { Context } from "hono";
import type { AppEnv, RouteDef } from "../app-env";
import { openApiDocumentDoc, referencePageDoc } from "../docs/reference";
import { buildOpenApiDocument } from "../openapi/document";

/** The version the document states: the API's, as package.json has it. */
export const API_VERSION = "0.1.0";

let built: string | null = null;

/** `GET /openapi.json` over `routes`, read at the first request (the table includes this route). */
function openApiJson(routes: () => readonly RouteDef[]) {
  return (c: Context<AppEnv>): Response => {
    built ??= JSON.stringify(buildOpenApiDocument(routes(), API_VERSION));
    return c.body(built, 200, { "content-type": "application/json; charset=utf-8" });
  };
}

/**
 * Only what Scalar needs from this origin: its script, the document (connect), inline styles it
 * injects, data: images and fonts. No other origin, no eval, no framing.
 */
export const REFERENCE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Scalar's options: nothing that calls another origin (its web fonts, its "Ask AI" agent, which
 * searches Scalar's registry through proxy.scalar.com; its developer toolbar), and every tag open so
 * each operation is on the page.
 */
const CONFIGURATION = JSON.stringify({
  withDefaultFonts: false,
  hideClientButton: true,
  telemetry: false,
  agent: { disabled: true },
  showDeveloperTools: "never",
  defaultOpenAllTags: true,
});

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rebound API reference</title>
<link rel="icon" href="data:,">
</head>
<body>
<script id="api-reference" data-url="/openapi.json" data-configuration='${CONFIGURATION}'></script>
<script src="/reference/scalar.js"></script>
</body>
</html>
`;

function referencePage(c: Context<AppEnv>): Response {
  return c.html(PAGE, 200, {
    "content-security-policy": REFERENCE_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
}

/**
 * The document's two routes. `routes` gives the whole route table: passed in by the table rather
 * than imported from it, so the two modules do not import each other.
 */
export function openApiRoutes(routes: () => readonly RouteDef[]): readonly RouteDef[] {
  return [
    {
      method: "GET",
      path: "/openapi.json",
      scope: "public",
      handler: openApiJson(routes),
      doc: openApiDocumentDoc,
    },
    { method: "GET", path: "/reference", scope: "public", handler: referencePage, doc: referencePageDoc },
  ];
}
