// Where Markdown holds text a reader of the rendered page does not see, but an agent reading the source does:
// HTML comments, link reference definitions (the `[//]: # (…)` comment idiom), collapsed `<details>`,
// elements hidden by attribute or style, and image alt texts and link titles.
// @req TRU-1
export type HiddenPlace =
  | "HTML comment"
  | "link reference definition"
  | "collapsed details"
  | "hidden HTML"
  | "alt text";

export interface HiddenRegion {
  place: HiddenPlace;
  start: number;
  end: number;
}

/** Whether `text` holds what every hidden place holds (`<`, `]:`, `![`, `](`): a few fast substring searches. */
export function hasMarkup(text: string): boolean {
  return text.includes("<") || text.includes("]:") || text.includes("![") || text.includes("](");
}

// No `u` flag: these are ASCII syntax, and case-insensitive matching is far slower in Unicode mode.
const PLACES: ReadonlyArray<[HiddenPlace, RegExp]> = [
  // An unclosed comment hides everything after it.
  ["HTML comment", /<!--[\s\S]*?(?:-->|$)/g],
  ["link reference definition", /^ {0,3}\[[^\]\n]+\]:[ \t]*\S+.*$/gm],
  ["collapsed details", /<details\b(?![^>]*\bopen\b)[^>]*>[\s\S]*?(?:<\/details\s*>|$)/gi],
  [
    "hidden HTML",
    /<([a-z][a-z0-9-]*)\b[^>]*?(?:\shidden\b|aria-hidden\s*=\s*["']?true|style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0(?![.\d]))|\bcolor\s*:\s*(?:transparent|white|#fff\b|#ffffff\b))[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi,
  ],
  // ![alt](src "title"), [text](href "title"), <img alt="…">, title="…" attributes
  [
    "alt text",
    /!\[[^\]\n]*\]|\]\([^)\s]*\s+(?:"[^"\n]*"|'[^'\n]*')\)|\b(?:alt|title)\s*=\s*(?:"[^"]*"|'[^']*')/gi,
  ],
];

/** Every hidden stretch of `text`, in order of start; they may overlap (a comment inside `<details>`). */
export function hiddenRegions(text: string): HiddenRegion[] {
  const regions: HiddenRegion[] = [];
  if (!hasMarkup(text)) return regions;
  for (const [place, re] of PLACES) {
    for (const m of text.matchAll(re)) {
      if (m[0].length > 0) regions.push({ place, start: m.index, end: m.index + m[0].length });
    }
  }
  return regions.sort((a, b) => a.start - b.start || b.end - a.end);
}
