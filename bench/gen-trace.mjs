// A deterministic source tree for the trace-scan benchmark: N source files in TypeScript, Python, Go and
// Markdown, tests among them, 1–20 KB each (most near the small end, as in real repositories), a few hundred
// of them carrying trace annotations (`@req`, `@verifies`, `@task`, test names with IDs, `[[ID]]`), some
// decoys (annotations inside string literals and fenced Markdown examples), a `.gitignore`d build folder, and a
// minimal `keel/` so that the folder is a Keel project. The same parameters always give the same bytes.
//
//   node bench/gen-trace.mjs --files N --out DIR [--seed S]

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { makeRng } from "./gen.mjs";

export const TRACE_GENERATOR_VERSION = 1;

const WORDS = [
  "invoice",
  "refund",
  "ledger",
  "account",
  "payment",
  "customer",
  "order",
  "receipt",
  "balance",
  "currency",
  "settlement",
  "transfer",
  "schedule",
  "report",
  "export",
  "import",
  "policy",
  "session",
  "token",
  "audit",
  "quota",
  "tenant",
  "webhook",
  "retry",
  "cursor",
  "batch",
  "window",
  "limit",
  "archive",
  "snapshot",
];
const VERBS = ["load", "save", "compute", "check", "apply", "merge", "render", "parse", "emit", "collect"];
const CAPS = ["PAY", "INV", "ACC", "ORD", "RPT", "SEC", "NTF", "SYNC"];

/** Kinds of file, with their share of the tree. */
const KINDS = [
  ["ts", 0.38],
  ["ts-test", 0.14],
  ["py", 0.14],
  ["py-test", 0.06],
  ["go", 0.13],
  ["go-test", 0.05],
  ["md", 0.1],
];

function pickKind(rng) {
  let x = rng.next();
  for (const [kind, share] of KINDS) {
    x -= share;
    if (x < 0) return kind;
  }
  return "ts";
}

/** A size in bytes between 1 and 20 KB, log-uniform (many small files, some large). */
function pickSize(rng) {
  return Math.round(1024 * Math.exp(rng.next() * Math.log(20)));
}

function ident(rng) {
  return `${rng.pick(VERBS)}${cap(rng.pick(WORDS))}${cap(rng.pick(WORDS))}`;
}

function cap(s) {
  return s[0].toUpperCase() + s.slice(1);
}

function reqId(rng) {
  return `${rng.pick(CAPS)}-${rng.int(1, 60)}`;
}

// One block of ordinary code per language; files are blocks until they reach their size.
const BLOCKS = {
  ts: (rng) => {
    const f = ident(rng);
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    return `/** ${cap(VERBS[0])}s the ${a} for one ${b}; returns null when there is none. */
export function ${f}(${a}: ${cap(a)}, ${b}Id: string): ${cap(b)} | null {
  const found = ${a}.items.find((x) => x.id === ${b}Id && x.state !== "closed");
  if (found === undefined) return null;
  // Keep the ${b} stable across retries: the caller may hold an older copy.
  const copy = { ...found, updatedAt: Date.now(), label: \`${b} \${found.id}\` };
  for (const line of copy.lines ?? []) {
    if (line.amount < 0) throw new Error("negative amount on ${b} " + line.id);
    copy.total = (copy.total ?? 0) + line.amount * (line.quantity ?? 1);
  }
  return copy as ${cap(b)};
}

`;
  },
  py: (rng) => {
    const f = ident(rng).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    return `def ${f}(${a}, ${b}_id):
    """Return the ${b} of one ${a}, or None when it has none."""
    found = next((x for x in ${a}.items if x.id == ${b}_id and x.state != "closed"), None)
    if found is None:
        return None
    # Keep the ${b} stable across retries: the caller may hold an older copy.
    total = 0
    for line in found.lines or []:
        if line.amount < 0:
            raise ValueError(f"negative amount on ${b} {line.id}")
        total += line.amount * (line.quantity or 1)
    return {"id": found.id, "total": total, "label": "${b} %s" % found.id}


`;
  },
  go: (rng) => {
    const f = cap(ident(rng));
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    return `// ${f} returns the ${b} of one ${a}, or nil when it has none.
func ${f}(${a} *${cap(a)}, ${b}ID string) (*${cap(b)}, error) {
	for _, x := range ${a}.Items {
		if x.ID != ${b}ID || x.State == "closed" {
			continue
		}
		// Keep the ${b} stable across retries: the caller may hold an older copy.
		total := 0
		for _, line := range x.Lines {
			if line.Amount < 0 {
				return nil, fmt.Errorf("negative amount on ${b} %s", line.ID)
			}
			total += line.Amount * line.Quantity
		}
		return &${cap(b)}{ID: x.ID, Total: total}, nil
	}
	return nil, nil
}

`;
  },
  md: (rng) => {
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    return `## ${cap(a)} and ${b}

Each ${a} belongs to one ${b}. The service keeps the ${b} stable across retries, because a caller may hold an
older copy; a retry with the same key returns the first result instead of doing the work twice.

- The ${a} is read once per request.
- A ${b} that is closed is never changed again.

`;
  },
};

const TEST_BLOCKS = {
  ts: (rng) => {
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    return `  it("keeps the ${a} stable when the ${b} is retried", () => {
    const ${a} = make${cap(a)}({ lines: [{ id: "l1", amount: 3 }] });
    expect(${ident(rng)}(${a}, "l1")).toEqual({ id: "l1", total: 3 });
    expect(() => ${ident(rng)}(${a}, "")).toThrow(/${b}/);
  });

`;
  },
  py: (rng) => {
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    return `def test_${a}_${b}_${rng.int(1, 9999)}():
    ${a} = make_${a}(lines=[{"id": "l1", "amount": 3}])
    assert ${a}.total == 3
    with pytest.raises(ValueError):
        ${a}.apply("${b}")


`;
  },
  go: (rng) => {
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    return `func Test${cap(a)}${cap(b)}${rng.int(1, 9999)}(t *testing.T) {
	got, err := ${cap(ident(rng))}(&${cap(a)}{}, "l1")
	if err != nil || got != nil {
		t.Fatalf("${b}: got %v, %v", got, err)
	}
}

`;
  },
};

const HEADERS = {
  ts: () => `import { describe, expect, it } from "vitest";\n\n`,
  py: () => `import pytest\n\n\n`,
  go: (pkg) => `package ${pkg}\n\nimport (\n\t"fmt"\n\t"testing"\n)\n\n`,
};

/** One annotation line (or test header) in the file's language; `decoy` ones must not count. */
function annotation(rng, lang, test) {
  const id = reqId(rng);
  const roll = rng.next();
  if (lang === "ts") {
    if (roll < 0.15) return `const example = "@req ${id} is how an annotation is written";\n`;
    if (test)
      return roll < 0.6 ? `// @verifies ${id}\n` : `describe("${id} ${rng.pick(WORDS)} rules", () => {});\n`;
    return roll < 0.8 ? `/** @req ${id} */\n` : `// @task T${String(rng.int(1, 300)).padStart(3, "0")}\n`;
  }
  if (lang === "py") {
    if (roll < 0.15) return `EXAMPLE = "@req ${id} is how an annotation is written"\n`;
    if (test) return `# @verifies ${id}\n`;
    return `# @req ${id}, ${reqId(rng)}\n`;
  }
  if (lang === "go") {
    if (roll < 0.15) return `const example = "@req ${id} is how an annotation is written"\n`;
    if (test) return `// @verifies ${id}\n`;
    return `// @req ${id}\n`;
  }
  if (roll < 0.3) return `\n\`\`\`ts\n// @req ${id}\n\`\`\`\n\n`;
  return roll < 0.65 ? `<!-- @req ${id} -->\n\n` : `See [[${id}]] for the rule.\n\n`;
}

function fileText(rng, kind, pkg, annotated) {
  const test = kind.endsWith("-test");
  const lang = kind.replace("-test", "");
  const target = pickSize(rng);
  const block = test ? TEST_BLOCKS[lang] : BLOCKS[lang];
  let text = lang === "md" ? `# ${cap(rng.pick(WORDS))} ${rng.pick(WORDS)}\n\n` : "";
  if (lang === "go") text += test ? HEADERS.go(pkg) : `package ${pkg}\n\nimport "fmt"\n\n`;
  else if (test) text += HEADERS[lang]();
  if (test && lang === "ts") text += `describe("${rng.pick(WORDS)}", () => {\n`;
  const at = annotated ? rng.int(0, 3) : -1;
  for (let i = 0; text.length < target; i++) {
    if (i === at) text += annotation(rng, lang, test);
    text += block(rng);
  }
  if (test && lang === "ts") text += "});\n";
  return text;
}

const EXT = {
  ts: ".ts",
  "ts-test": ".test.ts",
  py: ".py",
  "py-test": "",
  go: ".go",
  "go-test": "_test.go",
  md: ".md",
};

function fileName(rng, kind, i) {
  const base = `${rng.pick(WORDS)}_${rng.pick(VERBS)}_${i}`;
  if (kind === "py-test") return `test_${base}.py`;
  return `${base}${EXT[kind]}`;
}

function folderOf(kind, group) {
  const g = String(group).padStart(4, "0");
  switch (kind) {
    case "ts":
      return `packages/p${g}/src`;
    case "ts-test":
      return `packages/p${g}/tests`;
    case "py":
    case "py-test":
      return `python/m${g}`;
    case "go":
    case "go-test":
      return `go/g${g}`;
    default:
      return `docs/d${g}`;
  }
}

/**
 * Writes the tree into `root` (emptied first). Returns { files, bytes, annotated }: source files written
 * (the ignored build output and keel/ not counted), their total size, and how many carry an annotation line.
 */
export function writeTraceTree(root, { files = 20_000, seed = 1, annotatedShare = 0.02 } = {}) {
  const rng = makeRng(`keel-trace-bench:${seed}:${files}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const made = new Set();
  let bytes = 0;
  let annotated = 0;
  for (let i = 0; i < files; i++) {
    const kind = pickKind(rng);
    const group = Math.floor(i / 80);
    const dir = folderOf(kind, group);
    if (!made.has(dir)) {
      mkdirSync(join(root, dir), { recursive: true });
      made.add(dir);
    }
    const mark = rng.chance(annotatedShare);
    if (mark) annotated++;
    const text = fileText(rng, kind, `g${group}`, mark);
    bytes += text.length;
    writeFileSync(join(root, dir, fileName(rng, kind, i)), text);
  }
  // Ignored by both tools: build output that repeats the annotations.
  mkdirSync(join(root, "dist"), { recursive: true });
  for (let i = 0; i < 50; i++)
    writeFileSync(join(root, "dist", `bundle-${i}.js`), "// @req PAY-1\n".repeat(200));
  writeFileSync(join(root, ".gitignore"), "dist/\n");
  mkdirSync(join(root, "keel"), { recursive: true });
  writeFileSync(join(root, "keel", "keel.yaml"), "version: 1\n");
  return { files, bytes, annotated };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const get = (name) => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  const out = get("--out");
  if (!out) {
    console.error("usage: node bench/gen-trace.mjs --files N --out DIR [--seed S]");
    process.exitCode = 2;
  } else {
    const r = writeTraceTree(resolve(out), {
      files: Number(get("--files") ?? 20_000),
      seed: get("--seed") ?? 1,
    });
    console.log(JSON.stringify(r));
  }
}
