/**
 * A real HTTP server on loopback that plays every HTTP channel's other end in the worker tests: a
 * webhook receiver, Resend's POST /emails and Postmark's POST /email. It records each request,
 * checks provider request shapes the way the providers do (a malformed request gets their 4xx), and
 * can be scripted per path to answer 200, 500, any 4xx, or to hang until the client gives up.
 *
 * Started once by vitest as a globalSetup (Node side); the worker tests find it through
 * `inject("receiverUrl")` and drive it with test/worker/receiver.ts.
 *
 * Control API (JSON):
 *   POST /__control/script {"path": "/t/x/hook", "responses": [{"status": 500}, {"hang": true}]}
 *        answers the next requests to that path in order; afterwards the path's default applies.
 *   POST /__control/verify {"path": "/t/x/hook", "secret": "…", "nowSeconds": 1767225600}
 *        checks every later request to that path with the verification code from docs/webhooks.md,
 *        as a receiver whose clock reads `nowSeconds`, and records the verdict as `signatureValid`.
 *   GET  /__control/requests?path=/t/x/hook   every request recorded for that path, oldest first.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { verifyReboundSignature } from "./verify-signature";

/** A scripted answer. */
interface ScriptedResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer: the client's timeout must fire. */
  hang?: boolean;
}

/** A request as recorded. */
interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  /** The status this server answered (null while hanging). */
  answeredStatus: number | null;
  /** True when an Idempotency-Key repeated an earlier request's and the first answer was replayed. */
  replayed: boolean;
  /** The documented receiver's verdict on Rebound-Signature (null when the path is not verified). */
  signatureValid: boolean | null;
}

declare module "vitest" {
  interface ProvidedContext {
    receiverUrl: string;
  }
}

const scripts = new Map<string, ScriptedResponse[]>();
const verifiers = new Map<string, { secret: string; nowSeconds: number }>();
const recorded = new Map<string, RecordedRequest[]>();
/** Idempotency-Key → the first successful answer, as Resend keeps it for 24 hours. */
const idempotentAnswers = new Map<string, { status: number; body: unknown }>();
let emailCounter = 0;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function answer(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** What Resend answers: 401 without a key, 422 on a malformed email, else the email id (replayed per key). */
function resendAnswer(headers: Record<string, string>, body: string): { status: number; body: unknown } {
  if (!headers.authorization?.startsWith("Bearer ")) {
    return { status: 401, body: { statusCode: 401, name: "missing_api_key", message: "Missing API key" } };
  }
  const email = parseJson(body);
  const to = email?.to;
  const toValid =
    typeof to === "string" || (Array.isArray(to) && to.length > 0 && to.every((t) => typeof t === "string"));
  if (!email || typeof email.from !== "string" || !toValid || typeof email.subject !== "string") {
    return {
      status: 422,
      body: { statusCode: 422, name: "validation_error", message: "from, to and subject are required" },
    };
  }
  if (typeof email.text !== "string" && typeof email.html !== "string") {
    return {
      status: 422,
      body: { statusCode: 422, name: "validation_error", message: "text or html is required" },
    };
  }
  emailCounter += 1;
  return { status: 200, body: { id: `re_${emailCounter}` } };
}

/** What Postmark answers: 401 without a token, 422 with an ErrorCode on a malformed email, else the MessageID. */
function postmarkAnswer(headers: Record<string, string>, body: string): { status: number; body: unknown } {
  if (!headers["x-postmark-server-token"]) {
    return {
      status: 401,
      body: { ErrorCode: 10, Message: "No Account or Server API tokens were supplied." },
    };
  }
  const email = parseJson(body);
  if (
    !email ||
    typeof email.From !== "string" ||
    typeof email.To !== "string" ||
    typeof email.Subject !== "string"
  ) {
    return { status: 422, body: { ErrorCode: 300, Message: "Invalid email request" } };
  }
  if (typeof email.TextBody !== "string" && typeof email.HtmlBody !== "string") {
    return {
      status: 422,
      body: { ErrorCode: 300, Message: "Provide either email TextBody or HtmlBody or both." },
    };
  }
  emailCounter += 1;
  return {
    status: 200,
    body: {
      To: email.To,
      SubmittedAt: new Date().toISOString(),
      MessageID: `pm-${emailCounter}`,
      ErrorCode: 0,
      Message: "OK",
    },
  };
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  const body = await readBody(request);

  if (url.pathname === "/__control/script" && request.method === "POST") {
    const { path, responses } = JSON.parse(body) as { path: string; responses: ScriptedResponse[] };
    scripts.set(path, [...(scripts.get(path) ?? []), ...responses]);
    answer(response, 200, { ok: true });
    return;
  }
  if (url.pathname === "/__control/verify" && request.method === "POST") {
    const { path, secret, nowSeconds } = JSON.parse(body) as {
      path: string;
      secret: string;
      nowSeconds: number;
    };
    verifiers.set(path, { secret, nowSeconds });
    answer(response, 200, { ok: true });
    return;
  }
  if (url.pathname === "/__control/requests" && request.method === "GET") {
    answer(response, 200, { requests: recorded.get(url.searchParams.get("path") ?? "") ?? [] });
    return;
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers[name] = value;
  }
  const entry: RecordedRequest = {
    method: request.method ?? "",
    path: url.pathname,
    headers,
    body,
    receivedAt: Date.now(),
    answeredStatus: null,
    replayed: false,
    signatureValid: null,
  };
  const verifier = verifiers.get(url.pathname);
  if (verifier) {
    entry.signatureValid = verifyReboundSignature(
      verifier.secret,
      headers["rebound-signature"],
      body,
      verifier.nowSeconds,
    );
  }
  recorded.set(url.pathname, [...(recorded.get(url.pathname) ?? []), entry]);

  const scripted = scripts.get(url.pathname)?.shift();
  if (scripted?.hang) {
    // Leave the request open; the client's AbortSignal.timeout ends it, or teardown does.
    request.socket.on("close", () => response.destroy());
    return;
  }
  if (scripted) {
    entry.answeredStatus = scripted.status ?? 200;
    answer(response, entry.answeredStatus, scripted.body ?? {}, scripted.headers);
    return;
  }

  let result: { status: number; body: unknown };
  const idempotencyKey = headers["idempotency-key"];
  const previous =
    idempotencyKey === undefined ? undefined : idempotentAnswers.get(`${url.pathname}#${idempotencyKey}`);
  if (previous) {
    entry.replayed = true;
    result = previous;
  } else if (url.pathname.endsWith("/emails")) {
    result = resendAnswer(headers, body);
  } else if (url.pathname.endsWith("/email")) {
    result = postmarkAnswer(headers, body);
  } else {
    result = { status: 200, body: { received: true } };
  }
  if (idempotencyKey !== undefined && result.status === 200 && !previous) {
    idempotentAnswers.set(`${url.pathname}#${idempotencyKey}`, result);
  }
  entry.answeredStatus = result.status;
  answer(response, result.status, result.body);
}

/** vitest globalSetup: starts the receiver on a free loopback port and provides its URL. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => answer(response, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("receiverUrl", `http://127.0.0.1:${port}`);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
