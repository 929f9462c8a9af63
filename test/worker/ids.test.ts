// Sortable ids (worker/ids.ts): one shape for decisions, sends and campaign runs, sorting by time.
import { describe, expect, it } from "vitest";
import {
  idSlot,
  isDecisionId,
  isSendId,
  isSortableId,
  newDecisionId,
  newRunId,
  newSendId,
  sortableIdFloor,
} from "../../worker/ids";

const T0 = Date.UTC(2026, 2, 1, 8, 30); // 1772353800000, 0x019ca884c740

describe("sortable ids", () => {
  it("have the documented shape for each kind", () => {
    expect(newDecisionId(T0, 0xabc)).toMatch(/^dec_019ca884c740abc[0-9a-f]{13}$/);
    expect(newSendId(T0, 2, 0xabc)).toMatch(/^snd_019ca884c7400002abc[0-9a-f]{9}$/);
    expect(newRunId(T0)).toMatch(/^run_019ca884c7400000[0-9a-f]{12}$/);
    expect(newRunId(T0, 0x1_0003)).toMatch(/^run_019ca884c7400003[0-9a-f]{12}$/);
    expect(isDecisionId(newDecisionId(T0, 0xabc))).toBe(true);
    expect(isSendId(newSendId(T0, 0, 0xabc))).toBe(true);
    expect(isSortableId("run", newRunId(T0))).toBe(true);
  });

  it("carry the customer's slot, which idSlot reads back", () => {
    for (const slot of [0, 1, 0xabc, 4095]) {
      expect(idSlot(newDecisionId(T0, slot))).toBe(slot);
      expect(idSlot(newSendId(T0, 7, slot))).toBe(slot);
    }
  });

  it("tell kinds and malformed text apart", () => {
    expect(isDecisionId(newSendId(T0, 0, 0xabc))).toBe(false);
    expect(isSendId(newDecisionId(T0, 0xabc))).toBe(false);
    expect(isDecisionId("dec_123")).toBe(false);
    expect(isSendId(`${newSendId(T0, 0, 0xabc)}0`)).toBe(false);
    expect(isDecisionId(newDecisionId(T0, 0xabc).toUpperCase())).toBe(false);
  });

  it("sort by creation time, then by position within one call", () => {
    const ids = [
      newSendId(T0 + 1, 0, 0xabc),
      newSendId(T0, 1, 0xabc),
      newSendId(T0, 0, 0xabc),
      newSendId(T0 - 1, 9, 0xabc),
    ];
    expect([...ids].sort()).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect(newDecisionId(T0, 0xabc) < newDecisionId(T0 + 1, 0xabc)).toBe(true);
  });

  it("are told apart by their random part within one millisecond", () => {
    expect(new Set(Array.from({ length: 50 }, () => newDecisionId(T0, 0xabc))).size).toBe(50);
    expect(new Set(Array.from({ length: 50 }, () => newSendId(T0, 0, 0xabc))).size).toBe(50);
  });

  it("have a floor that sorts before every id of its time and after every earlier one", () => {
    const floor = sortableIdFloor("snd", T0);
    expect(floor).toBe("snd_019ca884c740");
    expect(newSendId(T0, 0, 0xabc) > floor).toBe(true);
    expect(newSendId(T0 - 1, 0xffff, 0xabc) < floor).toBe(true);
    expect(sortableIdFloor("dec", -5)).toBe("dec_000000000000");
  });
});
