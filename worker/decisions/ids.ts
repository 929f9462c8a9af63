/**
 * Decision ids: "dec_" + creation time as 12 hex digits of epoch ms + 16 random hex digits. They sort
 * by creation, and the random part makes them unguessable enough to stand in an accept link.
 */

const DECISION_ID = /^dec_[0-9a-f]{28}$/;

/** A new decision id created at `now` (the decision's time, not the wall clock). */
export function newDecisionId(now: number): string {
  const random = crypto.getRandomValues(new Uint8Array(8));
  const hex = [...random].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `dec_${Math.max(0, Math.floor(now)).toString(16).padStart(12, "0").slice(-12)}${hex}`;
}

/** Whether `text` has the shape of a decision id (so a malformed one is a 404 without a query). */
export function isDecisionId(text: string): boolean {
  return DECISION_ID.test(text);
}
