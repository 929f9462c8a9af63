/**
 * Compares ids the way SQLite's BINARY collation does (UTF-8 bytes, i.e. code points), not the way
 * JavaScript's `<` does (UTF-16 code units): the two disagree above U+FFFF.
 */
export function compareIds(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (U+D800-U+DFFF) encodes a code point above U+FFFF, greater than any unit above it.
    const rank = (unit: number) => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit);
    return rank(x) - rank(y);
  }
  return a.length - b.length;
}
