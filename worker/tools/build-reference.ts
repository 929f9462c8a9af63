/**
 * Build step: copies Scalar's standalone browser bundle (@scalar/api-reference, a pinned
 * devDependency) to assets/reference/scalar.js, which Workers static assets serve
 * (wrangler.toml `[assets]`) for the API reference page at `GET /reference`
 * (worker/api/routes/openapi.ts). Nothing is fetched from a CDN, at build or at run time. Runs as
 * part of `npm run build`.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
// The package's exports map does not list its browser bundle, so it is read from its folder.
const source = join(root, "node_modules/@scalar/api-reference/dist/browser/standalone.js");
const target = join(root, "assets/reference/scalar.js");
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
console.log("build-reference: Scalar's standalone bundle → assets/reference/scalar.js");
