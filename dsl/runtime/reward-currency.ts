/**
 * A reward in the customer's currency: which amount an `amount_off`, `credit` or `cost` gives a
 * customer who pays in a given currency (rules/rewards.yaml may list one amount per currency).
 *
 * Stage: runtime, used by decide.ts (the currency check and the chosen offer) and by the worker
 * when it renders an outstanding offer again. Pure: the ruleset's exchange rates are passed in.
 *
 * The amount for a customer paying in C is, in order: the amount the reward lists for C; else the
 * reward's amount (the ruleset-currency one when listed) converted with `settings.exchange_rates`
 * into C and rounded to C's minor unit, half away from zero; else none (`currency_mismatch`). A
 * customer with no currency yet (a lead) gets the reward's own amount. A declared `cost` is what
 * granting costs the business: the one listed for C, else the reward's own cost, never converted
 * here (reports convert it: worker/metrics/read-offers.ts).
 */

import { type Exchange, fromRulesetCurrency, toRulesetCurrency } from "../expr/exchange";
import type { Money } from "../expr/types";
import type { RewardIR } from "../rules/ruleset";

/**
 * The amount `reward` gives a customer paying in `currency`, or null when there is none for it
 * (it has no amount at all, or none listed and no rate to convert with).
 *
 * @example amountFor(twentyOff, "GBP", exchange) // { amount: 1600, currency: "GBP" } when listed
 */
export function amountFor(reward: RewardIR, currency: string, exchange: Exchange): Money | null {
  const base = reward.amount;
  if (base === null) return null;
  if (base.currency === currency) return base;
  const listed = reward.amounts?.find((money) => money.currency === currency);
  if (listed) return listed;
  const inRulesetCurrency = toRulesetCurrency(exchange, base.amount, base.currency);
  if (inRulesetCurrency === null) return null;
  const amount = fromRulesetCurrency(exchange, inRulesetCurrency, currency);
  return amount === null ? null : { amount, currency };
}

/**
 * `reward` as given to a customer paying in `currency` (null: unknown currency, the reward as
 * written): its amount and cost in that currency. Null when it has an amount but none for that
 * currency (the offer is skipped as `currency_mismatch`).
 */
export function rewardIn(reward: RewardIR, currency: string | null, exchange: Exchange): RewardIR | null {
  if (currency === null) return reward;
  const amount = reward.amount === null ? null : amountFor(reward, currency, exchange);
  if (reward.amount !== null && amount === null) return null;
  const cost = reward.costs?.find((money) => money.currency === currency) ?? reward.cost;
  if (amount === reward.amount && cost === reward.cost) return reward;
  return { ...reward, amount, cost };
}
