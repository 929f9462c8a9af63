// The worker tests' handle on the loopback receiver (test/loopback/receiver.ts): script its answers
// and read back what it received. Each test uses its own path, so tests never see each other's requests.
import { inject } from "vitest";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  answeredStatus: number | null;
  replayed: boolean;
  signatureValid: boolean | null;
}

export interface ScriptedResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  hang?: boolean;
}

declare module "vitest" {
  interface ProvidedContext {
    receiverUrl: string;
  }
}

let counter = 0;

/** A fresh receiver path for one test, e.g. "/t/3-webhook". */
export function receiverPath(label: string): string {
  counter += 1;
  return `/t/${Date.now().toString(36)}-${counter}-${label}`;
}

/** Base URL of the loopback receiver. */
export function receiverUrl(): string {
  return inject("receiverUrl");
}

/** Makes the receiver answer the next requests to `path` with `responses`, in order. */
export async function scriptReceiver(path: string, responses: ScriptedResponse[]): Promise<void> {
  const response = await fetch(`${receiverUrl()}/__control/script`, {
    method: "POST",
    body: JSON.stringify({ path, responses }),
  });
  if (!response.ok) throw new Error(`scripting the receiver failed: ${response.status}`);
}

/** Every request the receiver recorded for `path`, oldest first. */
export async function receivedAt(path: string): Promise<ReceivedRequest[]> {
  const response = await fetch(`${receiverUrl()}/__control/requests?path=${encodeURIComponent(path)}`);
  const { requests } = (await response.json()) as { requests: ReceivedRequest[] };
  return requests;
}

/**
 * Makes the receiver check every later request to `path` with the Node.js verification code from
 * docs/webhooks.md, as a receiver whose clock reads `nowSeconds`.
 */
export async function verifyAt(path: string, secret: string, nowSeconds: number): Promise<void> {
  const response = await fetch(`${receiverUrl()}/__control/verify`, {
    method: "POST",
    body: JSON.stringify({ path, secret, nowSeconds }),
  });
  if (!response.ok) throw new Error(`configuring verification failed: ${response.status}`);
}
