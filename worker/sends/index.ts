/**
 * The send pipeline's public surface: what the tick and the programmes call, and what the queue
 * handler and the routes use. See docs/sends.md.
 */

export { channelForRulesChannel } from "./channel-choice";
export { consumeSends } from "./consume";
export { consumeDeadLetters } from "./dead-letter";
export { type EnqueueResult, enqueueSends } from "./enqueue";
export { publishDueSends } from "./publish";
export { SendConfigError } from "./settings";
export type { ChannelName, ProgrammeKind, SendRequest, SendStatus, TemplateVariables } from "./types";
export { SendRequestError } from "./validate";
