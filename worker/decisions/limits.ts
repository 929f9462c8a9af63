/**
 * Limits of the decision engine, frozen in one place. Every read of a decision is bounded by one of
 * these, so a customer with a long history cannot make a decision slow or expensive.
 */
export const DECISION_LIMITS = Object.freeze({
  /**
   * Recent events one decision reads (newest first, within the ruleset's event window). A customer
   * with more events in the window is evaluated on the newest ones only.
   */
  maxEvents: 1_000,
  /** Past offers within the longest cap or cooldown window (caps allow far fewer). */
  maxOfferHistory: 200,
  /** Redemptions and cancellations the anti-abuse guard looks back over, newest first. */
  maxRedemptions: 50,
  maxCancellations: 50,
});
