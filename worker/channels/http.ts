/**
 * The one way channels talk HTTP: a JSON POST with a time limit, and the rules that turn an HTTP
 * failure into a retryable or permanent outcome. Used by the webhook, resend and postmark channels.
 */
import type { DeliveryOutcome } from "./types";

/** A provider's answer to a POST that completed (any status). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  bodyText: string;
}

/** A POST that did not complete: the outcome is unknown, the request may have arrived. */
export interface HttpFailure {
  kind: "retryable";
  error: string;
  outcomeUnknown: true;
}

/** Longest slice of a provider's error body kept in a send's `last_error`. */
const ERROR_BODY_EXCERPT = 300;

/**
 * POSTs `body` (already serialised JSON) to `url` and reads the whole answer, giving up after
 * `timeoutMs`. A timeout or network error comes back as a retryable outcome, never a throw.
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpAnswer | HttpFailure> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const bodyText = await response.text();
    return { status: response.status, headers: response.headers, bodyText };
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (name === "TimeoutError" || name === "AbortError") {
      return { kind: "retryable", error: `timed out after ${timeoutMs} ms`, outcomeUnknown: true };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { kind: "retryable", error: `network error: ${message}`, outcomeUnknown: true };
  }
}

/** True when `postJson` could not complete the request. */
export function isHttpFailure(answer: HttpAnswer | HttpFailure): answer is HttpFailure {
  return "kind" in answer;
}

/**
 * Classifies a non-2xx answer. 408, 425, 429 and 5xx are retried (honouring Retry-After); every
 * other 4xx means the request itself is wrong (bad key, bad address, validation), so repeating it
 * cannot help and the send is dead at once.
 */
export function classifyHttpFailure(provider: string, answer: HttpAnswer): DeliveryOutcome {
  const excerpt = answer.bodyText.slice(0, ERROR_BODY_EXCERPT);
  const error = `${provider} answered HTTP ${answer.status}${excerpt ? `: ${excerpt}` : ""}`;
  if (answer.status === 408 || answer.status === 425 || answer.status === 429 || answer.status >= 500) {
    const retryAfterSeconds = parseRetryAfter(answer.headers.get("retry-after"));
    return retryAfterSeconds === undefined
      ? { kind: "retryable", error, outcomeUnknown: false }
      : { kind: "retryable", error, outcomeUnknown: false, retryAfterSeconds };
  }
  return { kind: "permanent", error };
}

/** Retry-After in whole seconds; only the delta-seconds form, an HTTP date is ignored. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** Parses a JSON answer body, or returns undefined when it is not JSON. */
export function parseJsonBody(bodyText: string): unknown {
  try {
    return JSON.parse(bodyText);
  } catch {
    return undefined;
  }
}
