/**
 * Reading the metrics API from the page. The browser sends the session cookie by itself (same
 * origin); the page never sees the key. A refused key (401/403) is a `SignedOut` the page answers by
 * showing the sign-in form again.
 */

/** The API refused the request: `status` and the API's own error message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The key in the cookie is missing, unknown, revoked or lacks the scope. */
export class SignedOut extends ApiFailure {}

/** GETs `url` and parses its JSON answer. */
export async function getJson<T>(url: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
  } catch {
    throw new ApiFailure(0, "the server did not answer");
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return body as T;
  const message =
    (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${response.status}`;
  if (response.status === 401 || response.status === 403) throw new SignedOut(response.status, message);
  throw new ApiFailure(response.status, message);
}
