/**
 * Checks `SendRequest`s before anything is written: a bad request from a programme is a bug in
 * that programme, so the whole call is refused with every problem listed, and nothing is half-written.
 */
import { isChannelName } from "../channels/registry";
import { PROGRAMME_KINDS, type SendRequest } from "./types";

/** Longest programme key, occurrence, step, customer id or message key accepted. */
const MAX_KEY_LENGTH = 256;

/** One problem in one request: `index` into the array, the field, and what is wrong. */
export interface SendRequestProblem {
  index: number;
  field: string;
  message: string;
}

/** Thrown by `enqueueSends` when any request is invalid; nothing has been written. */
export class SendRequestError extends Error {
  constructor(readonly problems: readonly SendRequestProblem[]) {
    const first = problems[0];
    super(
      `${problems.length} invalid send request(s)` +
        (first ? `; first: sends[${first.index}].${first.field} ${first.message}` : ""),
    );
    this.name = "SendRequestError";
  }
}

/** Lists every problem in `requests` (empty when all are valid). */
export function findSendRequestProblems(requests: readonly SendRequest[]): SendRequestProblem[] {
  const problems: SendRequestProblem[] = [];
  requests.forEach((request, index) => {
    const problem = (field: string, message: string) => problems.push({ index, field, message });
    if (!(PROGRAMME_KINDS as readonly string[]).includes(request.programmeKind)) {
      problem("programmeKind", `must be one of ${PROGRAMME_KINDS.join(", ")}`);
    }
    for (const field of ["programmeKey", "occurrence", "step", "customerId", "messageKey"] as const) {
      const value: unknown = request[field];
      if (typeof value !== "string" || value.length === 0) problem(field, "must be a non-empty string");
      else if (value.length > MAX_KEY_LENGTH) problem(field, `must be at most ${MAX_KEY_LENGTH} characters`);
    }
    const variables: unknown = request.variables;
    if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
      problem("variables", "must be an object of template variables");
    }
    if (
      request.recipient !== undefined &&
      request.recipient !== null &&
      typeof request.recipient !== "string"
    ) {
      problem("recipient", "must be a string or null");
    }
    if (request.channel !== undefined && !isChannelName(request.channel)) {
      problem("channel", "must be one of outbox, webhook, resend, postmark, cloudflare_email");
    }
    if (request.notBefore !== undefined && !Number.isFinite(request.notBefore)) {
      problem("notBefore", "must be epoch milliseconds");
    }
  });
  return problems;
}
