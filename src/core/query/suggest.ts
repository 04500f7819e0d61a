// "Did you mean": the names closest to an unknown one, by edit distance (case-insensitive), with names that
// contain the input as a fallback, so `keel show pay-4` suggests `PAY-4` and `keel show refunds` suggests
// `payments/refunds-are-idempotent`.

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), stopping early past `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let prevMin = 0;
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (prev2[j - 2] as number) + 1);
      }
      cur.push(d);
      if (d < rowMin) rowMin = d;
    }
    // A cell depends on the two rows above it, so two rows past `max` mean the distance is too.
    if (rowMin > max && prevMin > max) return max + 1;
    prevMin = rowMin;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length] as number;
}

export function closest(input: string, names: Iterable<string>, count = 3): string[] {
  const q = input.toLowerCase();
  const max = Math.max(2, Math.floor(q.length / 3));
  const scored: Array<{ name: string; score: number }> = [];
  for (const name of new Set(names)) {
    const n = name.toLowerCase();
    const d = editDistance(q, n, max);
    if (d <= max) scored.push({ name, score: d });
    else if (q.length >= 3 && n.includes(q))
      scored.push({ name, score: max + 1 + (n.length - q.length) / 1000 });
  }
  scored.sort((x, y) => x.score - y.score || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, count).map((s) => s.name);
}
