/**
 * "Did you mean": the candidate closest to a misspelt word, for every hint the language gives
 * (rule keys, field and event names, time zones, CLI arguments). One distance and one threshold, so
 * a typo is recognised the same way wherever it is made.
 *
 * Stage: shared by every stage, like dsl/errors.ts.
 */

/**
 * The candidate closest to `word` by edit distance, ignoring case, when close enough to be a likely
 * typo: at most max(2, ⌊length / 3⌋) edits. Ties go to the earlier candidate.
 *
 * @example closest("fiftteen_percent_off", ["fifteen_percent_off", "free_month"]) // "fifteen_percent_off"
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const wanted = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `cap`) once every path costs at least `cap`. */
export function editDistance(a: string, b: string, cap = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= cap) return cap;
    previous = current;
  }
  return Math.min(previous[b.length]!, cap);
}
