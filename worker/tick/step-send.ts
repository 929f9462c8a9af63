/**
 * Turns one programme step for one customer into a `SendRequest`: decides the step's offer through
 * the decision API's own function (so an offer in a message is a real decision, with the same
 * record, expiry and caps as `POST /v1/decisions`), falls back to the step's fallback message when
 * there is none, snapshots the template variables, picks the channel, and defers the send past
 * quiet hours in the customer's zone.
 *
 * Flow: programme (campaign-run.ts, dunning.ts, lifecycle.ts) → stepSend → enqueueTickSends →
 * enqueueSends (a dry tick: DryRunEffects.recordSends).
 */

import type { OfferContext, Ruleset } from "../../dsl";
import { isQuiet, isValidTimeZone, messageVariables, nextAllowedTime, type QuietHours } from "../../dsl";
import { decideAndRecord } from "../decisions/decide-and-record";
import type { Env } from "../env";
import { channelForRulesChannel } from "../sends/channel-choice";
import { type EnqueueResult, enqueueSends } from "../sends/enqueue";
import type { ProgrammeKind, SendRequest, TemplateVariables } from "../sends/types";
import type { TickContext } from "./context";
import type { DryRunEffects } from "./dry-run";

/** The parts of a step that decide what is sent (StepIR, or a dunning step's message). */
export interface StepContent {
  readonly message: string | null;
  readonly offer: string | null;
  readonly fallbackMessage: string | null;
}

export interface StepSendInput {
  readonly env: Env;
  /** The tick's ruleset: the step's offer is decided, and its message chosen, with it. */
  readonly ruleset: Ruleset;
  readonly now: number;
  /** The customer row (data-model columns). */
  readonly customer: Readonly<Record<string, unknown>> & { readonly id: string };
  readonly programme: {
    readonly kind: ProgrammeKind;
    readonly key: string;
    readonly occurrence: string;
    readonly step: string;
  };
  readonly content: StepContent;
  /** Where offers come from (a campaign's offer_context; win-back and inactivity steps have their own). */
  readonly offerContext: OfferContext;
  readonly quietHours?: QuietHours | null;
  /** Extra template variables (dunning: the case's invoice and amount). */
  readonly extraVariables?: TemplateVariables;
  /** A dry tick's recorder: the offer is decided without storing it, and the decision recorded. */
  readonly dryRun?: DryRunEffects | null;
}

export type StepSendOutcome =
  | { readonly kind: "send"; readonly request: SendRequest; readonly deferred: boolean }
  /** The step carries an offer, none was available, and it has no fallback message. */
  | { readonly kind: "no_offer"; readonly reasonCode: string };

/** Builds the send for one step and customer (deciding its offer first, when it has one). */
export async function stepSend(input: StepSendInput): Promise<StepSendOutcome> {
  const { ruleset, customer, content } = input;
  let messageKey = content.message;
  let offerVariables: TemplateVariables = {};
  let offer = null;
  if (content.offer !== null) {
    const result = await decideAndRecord(
      input.env,
      {
        customerId: customer.id,
        context: input.offerContext,
        now: input.now,
        only: content.offer === "best" ? null : [content.offer],
        source: "campaign",
        dryRun: input.dryRun != null,
      },
      ruleset,
    );
    input.dryRun?.recordDecision(result);
    if (result.decision.offer && result.chosenOffer) {
      offer = result.chosenOffer;
      messageKey ??= offer.message;
      offerVariables = {
        decision_id: result.decision.id,
        offer_key: offer.key,
        offer_expires_at_iso: new Date(offer.expiresAt).toISOString(),
      };
    } else if (content.fallbackMessage !== null) {
      messageKey = content.fallbackMessage;
      offerVariables = { decision_id: result.decision.id, offer_key: null };
    } else {
      return { kind: "no_offer", reasonCode: result.decision.reasonCode };
    }
  }
  if (messageKey === null) return { kind: "no_offer", reasonCode: "no_message" };

  const variables: TemplateVariables = {
    ...messageVariables(ruleset, { customer, companyName: input.env.COMPANY_NAME, offer }),
    ...offerVariables,
    ...input.extraVariables,
  };
  const rulesChannel = ruleset.messages.get(messageKey)?.ir.channel ?? null;
  const channel = channelForRulesChannel(rulesChannel);
  const notBefore = input.quietHours
    ? sendTimeOutsideQuietHours(customerTimeZone(ruleset, customer), input.now, input.quietHours)
    : input.now;
  const request: SendRequest = {
    programmeKind: input.programme.kind,
    programmeKey: input.programme.key,
    occurrence: input.programme.occurrence,
    step: input.programme.step,
    customerId: customer.id,
    messageKey,
    variables,
    recipient: typeof customer.email === "string" ? customer.email : null,
    ...(channel ? { channel } : {}),
    notBefore,
  };
  return { kind: "send", request, deferred: notBefore > input.now };
}

/** Stores a tick's sends (enqueueSends); a dry tick records them instead, rendered. */
export function enqueueTickSends(tc: TickContext, sends: readonly SendRequest[]): Promise<EnqueueResult> {
  return tc.dryRun
    ? tc.dryRun.recordSends(tc.env, tc.ruleset, sends, tc.now)
    : enqueueSends(tc.env, sends, tc.now);
}

/**
 * When a send may go out: `now`, or the end of the customer's quiet hours, re-checked so that a
 * send is never scheduled inside them (a DST gap once made `nextAllowedTime` answer a time that was
 * still quiet). Each re-check looks again from the quiet instant; if that ever fails to leave
 * quiet hours, the step fails loudly rather than send at night.
 */
export function sendTimeOutsideQuietHours(timeZone: string, now: number, quietHours: QuietHours): number {
  let notBefore = nextAllowedTime(timeZone, now, quietHours);
  for (let recheck = 0; isQuiet(timeZone, notBefore, quietHours); recheck++) {
    if (recheck === 2) throw new Error(`no send time outside quiet hours in "${timeZone}" after ${now}`);
    notBefore = nextAllowedTime(timeZone, notBefore, quietHours);
  }
  return notBefore;
}

/** The customer's IANA zone, or the ruleset's default when the profile has none (or a bad one). */
export function customerTimeZone(ruleset: Ruleset, customer: Readonly<Record<string, unknown>>): string {
  const zone = customer.timezone;
  return typeof zone === "string" && isValidTimeZone(zone) ? zone : ruleset.defaultTimezone;
}
