// Exactly once on a sharded deployment, whatever the queue does: two dispatches of one scheduled
// time, two consumers of one message at once, every message delivered again, a consumer that dies
// mid-unit, a consumer that runs out of queries, a message lost, a shard whose database is down.
// Each case ends with every eligible customer sent each step once, the same sends and campaign
// totals as one database running the same ticks, and no decision made twice.
import { beforeAll, describe, expect, it } from "vitest";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { TICK_LIMITS } from "../../worker/tick/limits";
import { runTick } from "../../worker/tick/run-tick";
import { unitKey } from "../../worker/tick/units";
import { MINUTE } from "./tick-fixtures";
import {
  consume,
  consumeEach,
  type Deployments,
  decisionCounts,
  deployments,
  dispatch,
  FailingD1,
  makeCustomers,
  misplacedSends,
  OCCURRENCE_KEY,
  runTotals,
  sendKeys,
  TICK_0,
  TICK_1,
  withShardDatabase,
} from "./tick-shards-fixtures";

beforeAll(async () => {
  await makeCustomers();
});

/** The first five-minute tick after a run's lease (renewed at its last page) has lapsed. */
const LATER = TICK_LIMITS.leaseMs + 5 * MINUTE;

/** One database's sends, decisions and campaign totals after the same ticks. */
async function oneDatabase(deployment: Deployments, ticks: readonly number[]) {
  for (const at of ticks) await runTick(deployment.one, at, { ruleset: deployedRuleset() });
  return {
    sends: await sendKeys([deployment.one.DB]),
    decisions: await decisionCounts([deployment.one.DB]),
    totals: await runTotals([deployment.one.DB]),
  };
}

/**
 * Four shards sent exactly what one database sent, each customer from their shard, nothing twice.
 * `crashed`: a consumer died between a customer's offer decision and its send, so the run that took
 * over decided that customer's offer again (as a one-database tick resuming a dead tick's run does);
 * the decisions must then be of the same customers, at most two each.
 */
async function expectSameAsOneDatabase(deployment: Deployments, ticks: readonly number[], crashed = false) {
  const expected = await oneDatabase(deployment, ticks);
  const sends = await sendKeys(deployment.shards);
  expect(new Set(sends).size).toBe(sends.length);
  expect(sends).toEqual(expected.sends);
  expect(sends.filter((key) => key.startsWith("campaign/")).length).toBeGreaterThan(100);
  expect(await misplacedSends(deployment.shards)).toEqual([]);
  const decisions = await decisionCounts(deployment.shards);
  if (crashed) {
    expect([...decisions.keys()].sort()).toEqual([...expected.decisions.keys()].sort());
    expect(Math.max(...decisions.values())).toBeLessThanOrEqual(2);
  } else {
    expect(decisions).toEqual(expected.decisions);
  }
  expect(await runTotals(deployment.shards)).toEqual(expected.totals);
}

describe("duplicates", () => {
  it("two dispatches of one scheduled time run each unit once", async () => {
    const deployment = await deployments();
    for (const at of [TICK_0, TICK_1]) {
      const [first, second] = await Promise.all([dispatch(deployment, at), dispatch(deployment, at)]);
      const messages = [...first!, ...second!];
      expect(messages).toHaveLength(48);
      const outcomes = await consumeEach(deployment.four, messages);
      const ran = outcomes.filter(
        (outcome) => outcome.kind === "ack" && outcome.report?.already_claimed === 0,
      );
      const skipped = outcomes.filter(
        (outcome) => outcome.kind === "ack" && outcome.report?.already_claimed === 1,
      );
      expect([ran.length, skipped.length]).toEqual([24, 24]);
    }
    await expectSameAsOneDatabase(deployment, [TICK_0, TICK_1]);
  });

  it("two consumers of the same messages at once run each unit once", async () => {
    const deployment = await deployments();
    for (const at of [TICK_0, TICK_1]) {
      const messages = await dispatch(deployment, at);
      const [a, b] = await Promise.all([
        consumeEach(deployment.four, messages),
        consumeEach(deployment.four, messages),
      ]);
      const campaignRuns = [...a, ...b].flatMap((outcome) =>
        outcome.kind === "ack" ? (outcome.report?.campaigns ?? []) : [],
      );
      // Each shard's part of the occurrence step ran in exactly one of the two consumers.
      expect(campaignRuns).toHaveLength(4);
      expect(campaignRuns.every((run) => run.status === "done" && !run.resumed)).toBe(true);
    }
    await expectSameAsOneDatabase(deployment, [TICK_0, TICK_1]);
  });

  it("every message delivered again does nothing more", async () => {
    const deployment = await deployments();
    for (const at of [TICK_0, TICK_1]) {
      const messages = await dispatch(deployment, at);
      await consumeEach(deployment.four, messages);
      const before = await sendKeys(deployment.shards);
      const again = await consumeEach(deployment.four, messages, { attempts: 2 });
      expect(again.every((outcome) => outcome.kind === "ack")).toBe(true);
      expect(
        again.flatMap((outcome) => (outcome.kind === "ack" ? (outcome.report?.campaigns ?? []) : [])),
      ).toEqual([]);
      expect(await sendKeys(deployment.shards)).toEqual(before);
    }
    await expectSameAsOneDatabase(deployment, [TICK_0, TICK_1]);
  });
});

describe("failures", () => {
  it("a consumer that dies mid-unit is finished by the message's redelivery", async () => {
    const deployment = await deployments();
    for (const at of [TICK_0, TICK_1]) {
      const messages = await dispatch(deployment, at);
      const campaign = messages.filter((message) => message.unit.kind === "campaign");
      const others = messages.filter((message) => message.unit.kind !== "campaign");
      await consumeEach(deployment.four, others);
      // Small pages: each shard's run gets through a page or two of sends, then its database goes away.
      const dying = campaign.map((message) => {
        const failing = new FailingD1(deployment.shards[message.shard]!, 14);
        return consume(withShardDatabase(deployment.four, message.shard, failing), [message], {
          audiencePageSize: 4,
        });
      });
      const died = (await Promise.all(dying)).map((result) => result.outcomes[0]!);
      expect(died.map((outcome) => outcome.kind)).toEqual(["retry", "retry", "retry", "retry"]);
      const partly = await sendKeys(deployment.shards);
      expect(partly.filter((key) => key.startsWith("campaign/")).length).toBeGreaterThan(0);

      const redelivered = await consumeEach(deployment.four, campaign, { attempts: 2, audiencePageSize: 4 });
      expect(redelivered.map((outcome) => outcome.kind)).toEqual(["ack", "ack", "ack", "ack"]);
      const runs = redelivered.flatMap((outcome) =>
        outcome.kind === "ack" ? (outcome.report?.campaigns ?? []) : [],
      );
      expect(runs.map((run) => [run.status, run.resumed])).toEqual([
        ["done", true],
        ["done", true],
        ["done", true],
        ["done", true],
      ]);
    }
    await expectSameAsOneDatabase(deployment, [TICK_0, TICK_1], true);
  });

  it("one database: a tick that dies mid-run is finished by a later tick, its counts matching its sends", async () => {
    const deployment = await deployments();
    const failing = new FailingD1(deployment.one.DB, 40);
    const died = await runTick({ ...deployment.one, DB: failing }, TICK_0, {
      ruleset: deployedRuleset(),
      audiencePageSize: 4,
    });
    expect(died.errors.length).toBeGreaterThan(0);
    const partly = (await sendKeys([deployment.one.DB])).filter((key) => key.startsWith("campaign/"));
    expect(partly.length).toBeGreaterThan(0);

    // The dead tick's lease lapses; the first tick after it resumes the run at its saved cursor.
    await runTick(deployment.one, TICK_0 + LATER, { ruleset: deployedRuleset(), audiencePageSize: 4 });
    const sent = (await sendKeys([deployment.one.DB])).filter((key) =>
      key.startsWith(`campaign/spring_winback/${OCCURRENCE_KEY}/0/`),
    ).length;
    expect(sent).toBeGreaterThan(partly.length);
    expect((await runTotals([deployment.one.DB]))[`spring_winback/${OCCURRENCE_KEY}/0/done`]?.sent).toBe(
      sent,
    );
  });

  it("a consumer that runs out of queries is continued by its redelivery, or by the next tick", async () => {
    const deployment = await deployments();
    const starve = { queryBudget: 60, audiencePageSize: 5 };
    for (const [at, path] of [
      [TICK_0, "redelivery"],
      [TICK_1, "next tick"],
    ] as const) {
      const messages = await dispatch(deployment, at);
      await consumeEach(
        deployment.four,
        messages.filter((message) => message.unit.kind !== "campaign"),
      );
      const campaign = messages.filter((message) => message.unit.kind === "campaign");
      const starved = await consumeEach(deployment.four, campaign, starve);
      // Paused where the budget ended, and put back on the queue to go on at once.
      expect(starved.map((outcome) => outcome.kind === "retry" && outcome.delaySeconds)).toEqual([
        1, 1, 1, 1,
      ]);
      const runs = async () =>
        (await runTotals(deployment.shards))[
          `spring_winback/${OCCURRENCE_KEY}/${at === TICK_0 ? 0 : 1}/running`
        ];
      expect(await runs()).toBeDefined();

      if (path === "redelivery") {
        // Each redelivery (still starved) takes the run over at its cursor and gets further.
        for (let attempts = 2; (await runs()) !== undefined; attempts += 1) {
          expect(attempts).toBeLessThan(40);
          await consumeEach(deployment.four, campaign, { ...starve, attempts });
        }
      } else {
        // The queue gave up on them. Each run keeps the lease its last page renewed (its own message
        // was to continue it), so the tick five minutes later leaves it alone instead of taking turns
        // with a continuation that may still be on its way...
        const soon = await consumeEach(deployment.four, await dispatch(deployment, at + 5 * MINUTE));
        expect(
          soon.flatMap((outcome) => (outcome.kind === "ack" ? (outcome.report?.campaigns ?? []) : [])),
        ).toEqual([]);
        expect(await runs()).toBeDefined();
        // ...and the first tick after the lease lapsed resumes it on each shard.
        const next = await consumeEach(deployment.four, await dispatch(deployment, at + LATER));
        const finished = next.flatMap((outcome) =>
          outcome.kind === "ack" ? (outcome.report?.campaigns ?? []) : [],
        );
        expect(finished.map((run) => [run.status, run.resumed])).toEqual([
          ["done", true],
          ["done", true],
          ["done", true],
          ["done", true],
        ]);
      }
    }
    await expectSameAsOneDatabase(deployment, [TICK_0, TICK_1, TICK_1 + 5 * MINUTE, TICK_1 + LATER]);
  });

  it("a lost campaign message is made up by a later tick: the shard's run was created before it was sent", async () => {
    const deployment = await deployments();
    const messages = await dispatch(deployment, TICK_0);
    const lost = messages.find((message) => message.unit.kind === "campaign" && message.shard === 1)!;
    await consumeEach(
      deployment.four,
      messages.filter((message) => message !== lost),
    );
    expect((await sendKeys([deployment.shards[1]!])).filter((key) => key.startsWith("campaign/"))).toEqual(
      [],
    );

    // The run's reserved lease (15 minutes) lapses; the next tick after that resumes it.
    await consumeEach(deployment.four, await dispatch(deployment, TICK_0 + 10 * MINUTE));
    expect((await sendKeys([deployment.shards[1]!])).filter((key) => key.startsWith("campaign/"))).toEqual(
      [],
    );
    await consumeEach(deployment.four, await dispatch(deployment, TICK_0 + 15 * MINUTE));
    expect(
      (await sendKeys([deployment.shards[1]!])).filter((key) => key.startsWith("campaign/")).length,
    ).toBeGreaterThan(0);
    await expectSameAsOneDatabase(deployment, [TICK_0, TICK_0 + 10 * MINUTE, TICK_0 + 15 * MINUTE]);
  });

  it("a shard whose database is down retries only its own messages; the others complete", async () => {
    const deployment = await deployments();
    const messages = await dispatch(deployment, TICK_0);
    const down = withShardDatabase(deployment.four, 2, new FailingD1(deployment.shards[2]!, 0));
    const outcomes = await consumeEach(down, messages);
    const retried = messages.filter((_, index) => outcomes[index]!.kind === "retry");
    expect(retried.map((message) => message.shard)).toEqual(
      messages.filter((m) => m.shard === 2).map(() => 2),
    );
    expect(retried.map((message) => unitKey(message.unit)).sort()).toEqual(
      messages
        .filter((message) => message.shard === 2)
        .map((message) => unitKey(message.unit))
        .sort(),
    );
    const retries = outcomes.filter((outcome) => outcome.kind === "retry");
    expect(retries.every((outcome) => outcome.kind === "retry" && outcome.delaySeconds >= 30)).toBe(true);
    // The other shards sent their customers' messages; shard 2 none.
    expect(await sendKeys([deployment.shards[2]!])).toEqual([]);
    expect((await sendKeys([deployment.shards[0]!])).length).toBeGreaterThan(0);

    // The database is back: the redelivered messages finish shard 2's part.
    const redelivered = await consumeEach(deployment.four, retried, { attempts: 2 });
    expect(redelivered.every((outcome) => outcome.kind === "ack")).toBe(true);
    await expectSameAsOneDatabase(deployment, [TICK_0]);
  });
});
