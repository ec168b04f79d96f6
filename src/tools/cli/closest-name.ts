/**
 * "Did you mean …?" for a mistyped command or option: the known name at the smallest edit
 * distance (Levenshtein), if it is close enough to be the likely intent, or the one it starts.
 */

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest of `known` to `input`, or undefined when none is plausibly what was meant. */
export function closestName(input: string, known: readonly string[]): string | undefined {
  const typed = input.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(typed, name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  if (best !== undefined && best.distance <= Math.min(2, Math.floor((typed.length - 1) / 2)))
    return best.name;
  if (typed.length >= 3) return known.find((name) => name.toLowerCase().startsWith(typed));
  return undefined;
}
