/**
 * "Did you mean …?" for a mistyped command, option or setting: the known name at the smallest
 * edit distance (Damerau-Levenshtein, optimal string alignment: a swap of two neighbouring
 * letters costs 1, like one insertion, deletion or substitution), if it is close enough to be the
 * likely intent, or the one it starts.
 */

export function editDistance(a: string, b: string): number {
  // rows[i][j]: the distance between the first i characters of a and the first j of b.
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, index) => index)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    const previous = rows[i - 1] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(distance);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * The known name within a small edit distance of `input` (case ignored), or undefined: at most 2
 * edits, and fewer for short names (1 up to 4 characters, 0 up to 2), so a stranger gets nothing.
 */
export function nearestName(input: string, known: readonly string[]): string | undefined {
  const typed = input.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(typed, name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  return best !== undefined && best.distance <= Math.min(2, Math.floor((typed.length - 1) / 2))
    ? best.name
    : undefined;
}

/** The closest of `known` to `input`, or undefined when none is plausibly what was meant. */
export function closestName(input: string, known: readonly string[]): string | undefined {
  const near = nearestName(input, known);
  if (near !== undefined) return near;
  const typed = input.toLowerCase();
  if (typed.length >= 3) return known.find((name) => name.toLowerCase().startsWith(typed));
  return undefined;
}
