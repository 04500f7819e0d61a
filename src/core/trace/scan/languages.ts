// What the scanner knows about a file from its name alone: its comment and string syntax, whether it is
// Markdown, and whether it is a test file. See docs/format.md, "Trace annotations".

/** Comment and string syntax of one family of languages, as the line lexer (lexer.ts) uses it. */
export interface Lang {
  name: string;
  /** Markers that comment out the rest of the line. */
  line: readonly string[];
  /** Block comments as [open, close]; they may span lines. */
  block: readonly (readonly [string, string])[];
  /** Quote characters whose strings are tracked within a line. */
  quotes: string;
  /** `'` opens a character literal only when it closes right away (`'a'`, `'\n'`): C-family, Go, Rust. */
  charQuote: boolean;
  /** `#` starts a comment only at the start of the line or after a space or tab (shells, YAML). */
  hashAfterSpace: boolean;
  /** A line whose first non-blank character is `*` is a comment line (the body of a `/** … *\/` block). */
  starLine: boolean;
}

function lang(name: string, spec: Partial<Omit<Lang, "name">>): Lang {
  return {
    name,
    line: spec.line ?? [],
    block: spec.block ?? [],
    quotes: spec.quotes ?? "",
    charQuote: spec.charQuote ?? false,
    hashAfterSpace: spec.hashAfterSpace ?? false,
    starLine: spec.starLine ?? false,
  };
}

const C_BLOCK = [["/*", "*/"]] as const;
const HTML_BLOCK = [["<!--", "-->"]] as const;

const JS = lang("js", { line: ["//"], block: C_BLOCK, quotes: "\"'`", starLine: true });
const C = lang("c", { line: ["//"], block: C_BLOCK, quotes: '"', charQuote: true, starLine: true });
const GO = lang("go", { line: ["//"], block: C_BLOCK, quotes: '"`', charQuote: true, starLine: true });
const SWIFT = lang("swift", { line: ["//"], block: C_BLOCK, quotes: '"', starLine: true });
const PHP = lang("php", { line: ["//", "#"], block: C_BLOCK, quotes: "\"'`", starLine: true });
const CSS = lang("css", { block: C_BLOCK, quotes: "\"'", starLine: true });
const SCSS = lang("scss", { line: ["//"], block: C_BLOCK, quotes: "\"'", starLine: true });
const HASH = lang("hash", { line: ["#"], quotes: "\"'" });
const SHELL = lang("shell", { line: ["#"], quotes: "\"'", hashAfterSpace: true });
const YAML = lang("yaml", { line: ["#"], quotes: "\"'", hashAfterSpace: true });
const SQL = lang("sql", { line: ["--"], block: C_BLOCK, quotes: "\"'", starLine: true });
const LUA = lang("lua", { line: ["--"], block: [["--[[", "]]"]], quotes: "\"'" });
const HASKELL = lang("haskell", { line: ["--"], block: [["{-", "-}"]], quotes: '"', charQuote: true });
const HTML = lang("html", { block: HTML_BLOCK });
const COMPONENT = lang("component", {
  line: ["//"],
  block: [...C_BLOCK, ...HTML_BLOCK],
  quotes: "\"'`",
  starLine: true,
});
const LISP = lang("lisp", { line: [";"], quotes: '"' });
const PERCENT = lang("percent", { line: ["%"], quotes: '"' });
const TEX = lang("tex", { line: ["%"] });
const VB = lang("vb", { line: ["'"], quotes: '"' });
const INI = lang("ini", { line: [";", "#"] });
const POWERSHELL = lang("powershell", { line: ["#"], block: [["<#", "#>"]], quotes: "\"'" });
const JULIA = lang("julia", { line: ["#"], block: [["#=", "=#"]], quotes: '"' });
const NONE = lang("data", { quotes: '"' });
/** Files whose extension the table does not know: every marker of the documented generic set. */
export const GENERIC = lang("generic", {
  line: ["//", "#", "--", ";", "%"],
  block: [...C_BLOCK, ...HTML_BLOCK],
  quotes: "\"'`",
  starLine: true,
});

const BY_EXT: Record<string, Lang> = {};
function register(l: Lang, exts: string): void {
  for (const e of exts.split(" ")) BY_EXT[e] = l;
}
register(JS, "js jsx mjs cjs ts tsx mts cts dart groovy gradle");
register(C, "c h cc cpp cxx hpp hh hxx m mm java kt kts scala sc cs fs rs zig sol proto v");
register(GO, "go");
register(SWIFT, "swift");
register(PHP, "php");
register(CSS, "css");
register(SCSS, "scss less sass styl");
register(
  HASH,
  "py pyi pyw rb rake gemspec pl pm r nix ex exs cr tf tfvars hcl cmake mk toml cfg conf properties nim coffee",
);
register(SHELL, "sh bash zsh fish ksh");
register(YAML, "yaml yml");
register(SQL, "sql psql");
register(LUA, "lua");
register(HASKELL, "hs lhs elm purs");
register(HTML, "html htm xhtml xml svg xsd xsl plist");
register(COMPONENT, "vue svelte astro");
register(LISP, "lisp cl el scm ss rkt clj cljs cljc edn asm s");
register(PERCENT, "erl hrl pro");
register(TEX, "tex sty cls bib");
register(VB, "vb vbs bas");
register(INI, "ini");
register(POWERSHELL, "ps1 psm1 psd1");
register(JULIA, "jl");
register(NONE, "json");

const BY_NAME: Record<string, Lang> = {
  Makefile: HASH,
  makefile: HASH,
  GNUmakefile: HASH,
  Dockerfile: HASH,
  Containerfile: HASH,
  "CMakeLists.txt": HASH,
  Gemfile: HASH,
  Rakefile: HASH,
  Justfile: HASH,
  justfile: HASH,
  ".gitignore": HASH,
  ".gitattributes": HASH,
  ".editorconfig": INI,
};

const MARKDOWN_EXT = new Set(["md", "mdx", "markdown"]);

const MARKDOWN_PATH = /\.(?:md|mdx|markdown)$/i;

export function isMarkdownPath(rel: string): boolean {
  return MARKDOWN_PATH.test(rel);
}

export interface FileKind {
  lang: Lang;
  markdown: boolean;
  test: boolean;
}

/** The file's kind, from its project-relative `/`-separated path. */
export function fileKind(rel: string): FileKind {
  const slash = rel.lastIndexOf("/");
  const base = rel.slice(slash + 1);
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  const markdown = MARKDOWN_EXT.has(ext);
  return {
    lang: BY_NAME[base] ?? BY_EXT[ext] ?? GENERIC,
    markdown,
    test: !markdown && isTestPath(rel),
  };
}

const TEST_DIRS = new Set(["tests", "test", "__tests__", "spec"]);

/**
 * Test files: `*.test.*`, `*.spec.*`, `*_test.*`, `test_*.*`, `*Test.*` / `*Tests.*` (JUnit, XCTest, NUnit), and
 * anything under a `tests/`, `test/`, `__tests__/` or `spec/` folder.
 */
export function isTestPath(rel: string): boolean {
  if (rel.indexOf("test") === -1 && rel.indexOf("Test") === -1 && rel.indexOf("spec") === -1) return false;
  const base = rel.slice(rel.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot > 0) {
    const stem = base.slice(0, dot);
    if (stem.endsWith("_test") || base.includes(".test.") || base.includes(".spec.")) return true;
    if (base.startsWith("test_")) return true;
    if (/[a-z0-9]Tests?$/.test(stem)) return true;
  }
  let start = 0;
  for (let slash = rel.indexOf("/"); slash !== -1; slash = rel.indexOf("/", start)) {
    if (TEST_DIRS.has(rel.slice(start, slash))) return true;
    start = slash + 1;
  }
  return false;
}
