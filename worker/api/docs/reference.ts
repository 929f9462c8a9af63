/**
 * OpenAPI documentation of worker/api/routes/openapi.ts: the document itself and its reference
 * page. Public: they describe a public API and expose no data.
 */
import type { RouteDoc } from "../app-env";

export const openApiDocumentDoc: RouteDoc = {
  summary: "The OpenAPI document",
  tag: "Reference",
  description:
    "This document: OpenAPI 3.1, built from the route table's docs and the request schemas the validators are compiled from.",
  response: {
    status: 200,
    description: "The document.",
    schema: {
      type: "object",
      required: ["openapi", "info", "paths"],
      properties: { openapi: { const: "3.1.0" } },
    },
    example: { openapi: "3.1.0", info: { title: "Rebound API", version: "0.1.0" }, paths: {} },
  },
  errors: [],
};

export const referencePageDoc: RouteDoc = {
  summary: "The API reference page",
  tag: "Reference",
  description:
    "This document rendered by Scalar, bundled with the Worker (served from Workers static assets at `/reference/scalar.js`; no CDN). A strict Content-Security-Policy allows only this origin.",
  response: {
    status: 200,
    description: "The page.",
    contentType: "text/html",
    schema: { type: "string" },
    example: '<!doctype html><html lang="en">…</html>',
  },
  errors: [],
};
