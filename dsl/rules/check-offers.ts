/**
 * Checking rewards, offers, the offer policy, frequency caps, and experiments (shared with campaigns).
 *
 * Stage: part of check, after segments and messages are known.
 */

import { isKnownCurrency } from "../expr/fields";
import type { Money } from "../expr/types";
import { LIMITS } from "../limits";
import { closest } from "../suggest";
import { unconvertibleCurrency } from "./check-catalog";
import type { CheckContext } from "./check-context";
import type { YamlMap, YamlNode } from "./load";
import type { Reader } from "./reader";
import {
  type CapIR,
  type ExperimentIR,
  OFFER_CONTEXTS,
  type OfferContext,
  type OfferIR,
  type OfferPolicyIR,
  type OfferVariantIR,
  REWARD_KINDS,
  type RewardIR,
  type RewardKind,
  type RulesetIR,
} from "./ruleset";

export function readReward(
  c: CheckContext,
  key: string,
  node: YamlNode,
  reader: Reader,
): RewardIR | undefined {
  const map = reader.map(node, `reward \`${key}\``);
  if (!map) return undefined;
  const allowed = [...REWARD_KINDS, "description", "for_months", "expires_after", "cost"];
  const fields = reader.fields(map, `reward \`${key}\``, allowed, ["expires_after"]);
  const kinds = REWARD_KINDS.filter((kind) => fields.has(kind));
  if (kinds.length !== 1) {
    reader.fail(
      kinds.length > 1 ? fields.get(kinds[1]!)! : map,
      "schema_violation",
      kinds.length > 1
        ? `reward \`${key}\` has both \`${kinds[0]}\` and \`${kinds[1]}\`: give exactly one kind`
        : `reward \`${key}\` needs one of ${REWARD_KINDS.join(", ")}`,
    );
    return undefined;
  }
  const kind = kinds[0]!;
  const value = fields.get(kind)!;
  const reward: RewardIR = {
    key,
    kind,
    description: reader.optionalString(fields.get("description"), "a description"),
    amount: null,
    percent: null,
    forMonths: null,
    months: null,
    durationMs: null,
    points: null,
    feature: null,
    expiresAfterMs: 0,
    cost: null,
  };
  let ok = true;
  const need = <T>(v: T | undefined): T | null => {
    if (v === undefined) ok = false;
    return v ?? null;
  };
  switch (kind) {
    case "amount_off":
    case "credit": {
      const amounts = need(readAmounts(c, value, reader, `\`${kind}\``));
      if (amounts) {
        reward.amount = amounts.base;
        if (amounts.all) reward.amounts = amounts.all;
      }
      break;
    }
    case "percent_off":
      reward.percent = need(reader.number(value, "`percent_off`", 0.01, 100));
      break;
    case "months_off":
      reward.months = need(reader.integer(value, "`months_off`", 1, 24));
      break;
    case "consultation":
    case "trial_extension":
      reward.durationMs = need(reader.duration(value, `\`${kind}\``, LIMITS.maxDurationMs));
      break;
    case "bonus_points":
      reward.points = need(reader.integer(value, "`bonus_points`", 1, 1_000_000_000));
      break;
    case "feature_unlock":
      reward.feature = need(reader.key(value, "`feature_unlock`"));
      break;
  }
  const forMonths = fields.get("for_months");
  if (forMonths) {
    if (kind !== "amount_off" && kind !== "percent_off") {
      reader.fail(forMonths, "schema_violation", "`for_months` applies only to amount_off and percent_off");
      ok = false;
    } else reward.forMonths = need(reader.integer(forMonths, "`for_months`", 1, 24));
  }
  const expires = fields.get("expires_after");
  if (expires)
    reward.expiresAfterMs = need(reader.duration(expires, "`expires_after`", LIMITS.maxDurationMs)) ?? 0;
  else ok = false;
  const cost = fields.get("cost");
  if (cost) {
    const costs = need(readAmounts(c, cost, reader, "`cost`"));
    if (costs) {
      reward.cost = costs.base;
      if (costs.all) reward.costs = costs.all;
    }
  }
  return ok ? reward : undefined;
}

/**
 * One amount (`$20`), or one per currency (`{ USD: $20, EUR: €18, GBP: £16, AUD: 30 AUD }`). A
 * single amount in another currency than the rules' needs an exchange rate; a map's keys are
 * known currencies, each with an amount in that currency, and need none (each is what customers
 * paying in it get). `base` is the ruleset-currency entry, else the first.
 */
function readAmounts(
  c: CheckContext,
  node: YamlNode,
  reader: Reader,
  what: string,
): { base: Money; all: Money[] | null } | undefined {
  if (node.kind !== "map") {
    const money = reader.money(node, what, c.currency);
    if (!money) return undefined;
    const unconvertible = unconvertibleCurrency(c, money.currency, `${what} ${sourceText(node)}`);
    if (unconvertible)
      return reader.fail(node, "no_exchange_rate", unconvertible.message, unconvertible.hint);
    return { base: money, all: null };
  }
  const all: Money[] = [];
  let ok = node.pairs.length > 0;
  if (!ok)
    reader.fail(node, "schema_violation", `${what} needs at least one amount, e.g. { ${c.currency}: $20 }`);
  for (const { key, value } of node.pairs) {
    const code = String(key.value);
    if (!isKnownCurrency(code)) {
      reader.fail(
        key,
        "bad_money",
        `unknown currency \`${code}\``,
        "use an ISO 4217 code such as EUR or GBP",
      );
      ok = false;
      continue;
    }
    const money = reader.money(value, `${what} in ${code}`, c.currency);
    if (!money) {
      ok = false;
      continue;
    }
    if (money.currency !== code) {
      reader.fail(
        value,
        "currency_mismatch",
        `${what} for ${code} is ${sourceText(value)}, an amount in ${money.currency}`,
        `write it in ${code}, e.g. ${code === c.currency ? "$20" : `20 ${code}`}`,
      );
      ok = false;
      continue;
    }
    all.push(money);
  }
  if (!ok) return undefined;
  return { base: all.find((money) => money.currency === c.currency) ?? all[0]!, all };
}

function sourceText(node: YamlNode): string {
  return node.kind === "scalar" ? String(node.value) : "";
}

export function readRewards(c: CheckContext): RewardIR[] {
  const rewards: RewardIR[] = [];
  for (const entry of c.limit(c.mapEntries("rewards"), LIMITS.maxRewards, "rewards")) {
    c.declared.rewards.push(entry.key);
    c.definitions.rewards.set(entry.key, entry);
    const reward = readReward(c, entry.key, entry.value, entry.reader);
    if (reward) rewards.push(reward);
  }
  return rewards;
}

export function readCap(_c: CheckContext, node: YamlNode, reader: Reader, what: string): CapIR | null {
  const map = reader.map(node, what);
  if (!map) return null;
  return capOf(reader, reader.fields(map, what, ["max", "per"], ["max", "per"]));
}

function capOf(reader: Reader, fields: Map<string, YamlNode>): CapIR | null {
  const maxNode = fields.get("max");
  const perNode = fields.get("per");
  const max = maxNode ? reader.integer(maxNode, "`max`", 1, 1000) : undefined;
  const per = perNode ? reader.duration(perNode, "`per`", LIMITS.maxDurationMs) : undefined;
  return max !== undefined && per !== undefined ? { max, perMs: per } : null;
}

export function readFrequencyCaps(c: CheckContext): RulesetIR["frequencyCaps"] {
  const caps: RulesetIR["frequencyCaps"] = [];
  for (const entry of c.mapEntries("frequency_caps")) {
    const cap = readCap(c, entry.value, entry.reader, `frequency cap \`${entry.key}\``);
    if (cap) caps.push({ key: entry.key, ...cap });
  }
  return caps;
}

export function readOfferPolicy(c: CheckContext): RulesetIR["offerPolicy"] {
  const policy: RulesetIR["offerPolicy"] = {
    cap: null,
    cooldown: null,
    redeemedThenChurnedWithinMs: null,
  };
  const found = c.single("offer_policy");
  if (!found) return policy;
  const { node, reader } = found;
  const map = reader.map(node, "`offer_policy`");
  if (!map) return policy;
  const fields = reader.fields(map, "`offer_policy`", ["cap", "cooldown", "redeemed_then_churned_within"]);
  const cap = fields.get("cap");
  if (cap) policy.cap = readPolicyCap(cap, reader);
  const cooldown = fields.get("cooldown");
  if (cooldown) policy.cooldown = readPolicyCooldown(cooldown, reader);
  const guard = fields.get("redeemed_then_churned_within");
  if (guard)
    policy.redeemedThenChurnedWithinMs =
      reader.duration(guard, "`redeemed_then_churned_within`", LIMITS.maxDurationMs) ?? null;
  return policy;
}

/** `cap: { max: 3, per: 365d, reward_kinds: [amount_off, credit] }`; without `reward_kinds`, every kind. */
function readPolicyCap(node: YamlNode, reader: Reader): OfferPolicyIR["cap"] {
  const map = reader.map(node, "`cap`");
  if (!map) return null;
  const fields = reader.fields(map, "`cap`", ["max", "per", "reward_kinds"], ["max", "per"]);
  const cap = capOf(reader, fields);
  const kindsNode = fields.get("reward_kinds");
  const rewardKinds = kindsNode ? readRewardKinds(kindsNode, reader) : null;
  return cap && rewardKinds !== undefined ? { ...cap, rewardKinds } : null;
}

/** `cooldown: 30d` (every kind) or `cooldown: { for: 30d, reward_kinds: [amount_off, credit] }`. */
function readPolicyCooldown(node: YamlNode, reader: Reader): OfferPolicyIR["cooldown"] {
  if (node.kind !== "map") {
    const forMs = reader.duration(node, "`cooldown`", LIMITS.maxDurationMs);
    return forMs === undefined ? null : { forMs, rewardKinds: null };
  }
  const fields = reader.fields(node, "`cooldown`", ["for", "reward_kinds"], ["for"]);
  const forNode = fields.get("for");
  const forMs = forNode ? reader.duration(forNode, "`for`", LIMITS.maxDurationMs) : undefined;
  const kindsNode = fields.get("reward_kinds");
  const rewardKinds = kindsNode ? readRewardKinds(kindsNode, reader) : null;
  return forMs !== undefined && rewardKinds !== undefined ? { forMs, rewardKinds } : null;
}

/** A non-empty list of distinct reward kinds (RewardIR.kind), each error located at its item. */
function readRewardKinds(node: YamlNode, reader: Reader): RewardKind[] | undefined {
  const items = reader.keyList(node, "`reward_kinds`");
  if (!items) return undefined;
  const kinds: RewardKind[] = [];
  let ok = items.length === (node.kind === "seq" ? node.items.length : 1);
  for (const item of items) {
    if (!(REWARD_KINDS as readonly string[]).includes(item.key)) {
      const suggestion = closest(item.key, REWARD_KINDS);
      reader.fail(
        item.node,
        "schema_violation",
        `unknown reward kind \`${item.key}\``,
        suggestion ? `did you mean \`${suggestion}\`?` : `reward kinds: ${REWARD_KINDS.join(", ")}`,
      );
      ok = false;
    } else if (kinds.includes(item.key as RewardKind)) {
      reader.fail(item.node, "duplicate_key", `reward kind \`${item.key}\` is listed twice`);
      ok = false;
    } else kinds.push(item.key as RewardKind);
  }
  return ok ? kinds : undefined;
}

export function readOffers(
  c: CheckContext,
  rewards: RewardIR[],
  rewardKeys: Set<string>,
  messageKeys: Set<string>,
  reasonKeys: Set<string>,
): OfferIR[] {
  const offers: (OfferIR & { order: number })[] = [];
  const entries = c.limit(c.listEntries("offers"), LIMITS.maxOffers, "offers");
  c.declared.offers.push(...entries.map((entry) => entry.key));
  const segmentKeys = new Set(c.segmentInfo.keys());
  entries.forEach((entry, order) => {
    const { reader } = entry;
    const map = entry.value as YamlMap;
    const what = `offer \`${entry.key}\``;
    const fields = reader.fields(
      map,
      what,
      [
        "key",
        "description",
        "priority",
        "contexts",
        "reasons",
        "segment",
        "when",
        "reward",
        "message",
        "cap",
        "cooldown",
        "experiment",
      ],
      ["reward", "message"],
    );
    let ok = true;
    const priorityNode = fields.get("priority");
    const priority = priorityNode ? reader.integer(priorityNode, "`priority`", -1_000_000, 1_000_000) : 0;
    let contexts: OfferContext[] | null = null;
    const contextsNode = fields.get("contexts");
    if (contextsNode) {
      contexts = [];
      for (const item of reader.keyList(contextsNode, "`contexts`") ?? []) {
        if ((OFFER_CONTEXTS as readonly string[]).includes(item.key)) contexts.push(item.key as OfferContext);
        else
          reader.fail(
            item.node,
            "schema_violation",
            `unknown context \`${item.key}\``,
            `contexts: ${OFFER_CONTEXTS.join(", ")}`,
          );
      }
    }
    let reasons: string[] | null = null;
    const reasonsNode = fields.get("reasons");
    if (reasonsNode) {
      reasons = [];
      for (const item of reader.keyList(reasonsNode, "`reasons`") ?? []) {
        const key = c.reference(item.node, reader, reasonKeys, "reason");
        if (key) reasons.push(key);
        else ok = false;
      }
    }
    const segments: string[] = [];
    const segmentNode = fields.get("segment");
    if (segmentNode) {
      for (const item of reader.keyList(segmentNode, "`segment`") ?? []) {
        const key = c.reference(item.node, reader, segmentKeys, "segment");
        if (key) segments.push(key);
        else ok = false;
      }
    }
    const whenNode = fields.get("when");
    const when = whenNode ? c.expression(whenNode, reader) : null;
    if (when === undefined) ok = false;
    let rewardKey: string | undefined;
    const rewardNode = fields.get("reward");
    if (rewardNode?.kind === "map") {
      // An inline reward is named after its offer.
      const inline = readReward(c, `offer_${entry.key}`, rewardNode, reader);
      if (inline) {
        rewards.push(inline);
        rewardKeys.add(inline.key);
        rewardKey = inline.key;
      }
    } else if (rewardNode) rewardKey = c.reference(rewardNode, reader, rewardKeys, "reward");
    const messageNode = fields.get("message");
    const message = messageNode ? c.useMessage(messageNode, reader, messageKeys, "offer", what) : null;
    const capNode = fields.get("cap");
    const cap = capNode ? readCap(c, capNode, reader, "`cap`") : null;
    const cooldownNode = fields.get("cooldown");
    const cooldownMs = cooldownNode
      ? (reader.duration(cooldownNode, "`cooldown`", LIMITS.maxDurationMs) ?? null)
      : null;
    const experimentNode = fields.get("experiment");
    const experiment = experimentNode
      ? readExperiment<OfferVariantIR>(
          c,
          experimentNode,
          reader,
          `offer_${entry.key}`,
          (variant, vfields) => {
            const vr = vfields.get("reward");
            const vm = vfields.get("message");
            return {
              ...variant,
              reward: vr ? (c.reference(vr, reader, rewardKeys, "reward") ?? null) : null,
              message: vm
                ? c.useMessage(vm, reader, messageKeys, "offer", `${what} variant \`${variant.key}\``)
                : null,
            };
          },
          ["reward", "message"],
        )
      : null;
    if (
      !ok ||
      priority === undefined ||
      rewardKey === undefined ||
      message === null ||
      experiment === undefined
    )
      return;
    offers.push({
      key: entry.key,
      description: reader.optionalString(fields.get("description"), "a description"),
      priority,
      contexts,
      reasons,
      segments,
      when: when ?? null,
      reward: rewardKey,
      message,
      cap,
      cooldownMs,
      experiment,
      at: reader.where(entry.keyNode),
      order,
    });
  });
  offers.sort((a, b) => b.priority - a.priority || a.order - b.order);
  return offers.map(({ order: _order, ...offer }) => offer);
}

export function readExperiment<V extends { key: string; weight: number }>(
  _c: CheckContext,
  node: YamlNode,
  reader: Reader,
  defaultKey: string,
  variant: (base: { key: string; weight: number }, fields: Map<string, YamlNode>) => V,
  extraFields: readonly string[],
): ExperimentIR<V> | undefined {
  const map = reader.map(node, "`experiment`");
  if (!map) return undefined;
  const fields = reader.fields(map, "`experiment`", ["key", "holdout", "variants"], ["variants"]);
  const keyNode = fields.get("key");
  const key = keyNode ? reader.key(keyNode, "an experiment key") : defaultKey;
  const holdoutNode = fields.get("holdout");
  let holdoutPercent: number | undefined = 0;
  if (holdoutNode) {
    holdoutPercent = reader.number(holdoutNode, "`holdout` (a percentage)", 0, 100);
    if (holdoutPercent !== undefined && Math.round(holdoutPercent * 100) !== holdoutPercent * 100) {
      holdoutPercent = reader.fail(
        holdoutNode,
        "bad_weights",
        "`holdout` may have at most two decimals (buckets are 0.01%)",
      );
    }
    if (holdoutPercent === 100)
      holdoutPercent = reader.fail(holdoutNode, "bad_weights", "a 100% holdout sends nothing to anyone");
  }
  const variantsNode = fields.get("variants");
  const items = variantsNode ? reader.seq(variantsNode, "`variants`") : undefined;
  if (!items) return undefined;
  const variants: V[] = [];
  let ok = key !== undefined && holdoutPercent !== undefined;
  for (const item of items) {
    const vmap = reader.map(item, "a variant");
    if (!vmap) {
      ok = false;
      continue;
    }
    const vfields = reader.fields(vmap, "a variant", ["key", "weight", ...extraFields], ["key", "weight"]);
    const vkeyNode = vfields.get("key");
    const weightNode = vfields.get("weight");
    const vkey = vkeyNode ? reader.key(vkeyNode, "a variant key") : undefined;
    const weight = weightNode ? reader.integer(weightNode, "`weight`", 0, 10_000) : undefined;
    if (vkey === undefined || weight === undefined) {
      ok = false;
      continue;
    }
    if (variants.some((v) => v.key === vkey)) {
      reader.fail(vkeyNode!, "duplicate_key", `variant \`${vkey}\` is listed twice`);
      ok = false;
      continue;
    }
    variants.push(variant({ key: vkey, weight }, vfields));
  }
  if (variants.length > 0 && variants.every((v) => v.weight === 0)) {
    reader.fail(variantsNode!, "bad_weights", "at least one variant needs a weight above zero");
    ok = false;
  }
  if (items.length === 0) {
    reader.fail(variantsNode!, "bad_weights", "an experiment needs at least one variant");
    ok = false;
  }
  return ok ? { key: key!, holdoutPercent: holdoutPercent!, variants } : undefined;
}
