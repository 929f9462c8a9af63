// Smoke test: the API reference page (GET /reference) in a real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) against the built Worker under `wrangler dev`. Scalar,
// served from Workers static assets, must render the document's operations under the page's strict
// Content-Security-Policy: no console error, no CSP violation, and no request leaving loopback.
// A screenshot goes to test/smoke/.screenshots/ (git-ignored).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useDevServer } from "./dev-server";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(import.meta.dirname, ".screenshots");
// The flags Chromium needs on a machine with a closed network and no GPU (the machine notes).
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** How the browser reports zod's eval probe (`try { new Function("") } catch {}`) being refused. */
const ZOD_EVAL_PROBE = "script-src blocked eval";
const smoke = useDevServer("rebound-smoke-reference-");
let browser: Browser | undefined;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

/** Whether a URL the page asked for stays on this machine (or never leaves the page). */
function local(url: string): boolean {
  if (url.startsWith("data:") || url.startsWith("blob:") || url === "about:blank") return true;
  const { hostname } = new URL(url);
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
}

describe("the API reference page", () => {
  it("renders every operation from this origin only, under its CSP, without an error", async () => {
    if (!browser) throw new Error("Chromium has not started");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
    const page = await context.newPage();
    const urls: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => urls.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    // A CSP violation is reported to the page as an event, whether or not the console shows it.
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        const page = window as unknown as { cspViolations?: string[] };
        page.cspViolations ??= [];
        page.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
      });
    });

    const response = await page.goto(`${smoke.url}/reference`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain("unsafe-eval");
    // Scalar fetches the document, then draws the sidebar and one section per operation.
    await page.getByRole("heading", { name: "Record events" }).first().waitFor({ timeout: 120_000 });
    for (const title of ["Record events", "Read a customer's profile", "Retention", "Create an API key"])
      expect(await page.getByRole("heading", { name: title }).first().isVisible(), title).toBe(true);
    expect(await page.getByText("Rebound API").first().isVisible()).toBe(true);

    const violations = await page.evaluate(
      () => (window as unknown as { cspViolations?: string[] }).cspViolations ?? [],
    );
    // The one expected report: zod (inside Scalar) probes `new Function("")` once to choose its
    // parser and falls back when the CSP refuses; nothing else may be refused (docs/api.md).
    expect(violations.filter((violation) => violation !== ZOD_EVAL_PROBE)).toEqual([]);
    expect(problems).toEqual([]);
    expect(urls.filter((url) => !local(url))).toEqual([]);
    expect(urls).toContain(`${smoke.url}/reference/scalar.js`);
    expect(urls).toContain(`${smoke.url}/openapi.json`);
    await page.screenshot({ path: join(SCREENSHOTS, "reference-1280x900.png") });
    await context.close();
  }, 180_000);

  it("serves Scalar's bundle as a static asset, as JavaScript", async () => {
    const script = await fetch(`${smoke.url}/reference/scalar.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/^(application|text)\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
  });
});
