// Counting tokens for the context pack's budget. The tokenizer is OpenAI's cl100k_base BPE (gpt-tokenizer, pure
// JavaScript), imported on first use: its rank table is a 1.3 MB chunk that takes ~90 ms to load, paid only by
// `keel context`. The counts are exact for cl100k_base; other models' tokenizers differ by some percent, which
// is why the budget is a ceiling to keep headroom under, not a target (docs/cli.md#context).

export interface Tokenizer {
  /** The encoding's name, reported with every count. */
  readonly name: string;
  count(text: string): number;
}

/** Special-token strings such as `<|endoftext|>` inside spec text are counted as the plain text they are. */
const PLAIN = { disallowedSpecial: new Set<string>() };

let loaded: Promise<Tokenizer> | null = null;

export function loadTokenizer(): Promise<Tokenizer> {
  loaded ??= import("gpt-tokenizer/encoding/cl100k_base").then((m) => ({
    name: "cl100k_base",
    count: (text: string) => (text.length === 0 ? 0 : m.countTokens(text, PLAIN)),
  }));
  return loaded;
}
