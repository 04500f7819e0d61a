// The trace scanner against real repositories: real git work trees with real commits, untracked and ignored
// files, symbolic links, binary and broken files; and the CLI's worker-thread path against the single-thread one.
// @verifies TRC-1, TRC-2
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scanRepository } from "../src/core/trace/scan/index.js";
import type { RawLink, ScanResult } from "../src/core/trace/types.js";
import { jsonOut, keel, keelWith } from "./support/cli.js";
import { tempProjects, writeFile, writeFiles } from "./support/files.js";
import { commitAll, git, gitInit } from "./support/git.js";

const project = tempProjects("keel-trace-scan-");

/** A git repository holding `files`, committed once with `message`. */
function repo(files: Record<string, string | Buffer>, message = "initial"): string {
  const root = project(files);
  gitInit(root);
  commitAll(root, message);
  return root;
}

function brief(links: RawLink[]): string[] {
  return links.map(
    (l) => `${l.file}:${l.line}:${l.col} ${l.kind} ${l.targetType === "task" ? "task " : ""}${l.target}`,
  );
}

function scan(root: string, options: Parameters<typeof scanRepository>[1] = {}): Promise<ScanResult> {
  return scanRepository(root, { commits: false, ...options });
}

describe("annotations in comments", () => {
  it("are found in the comments of each language, with file:line:col of every ID", async () => {
    const root = repo({
      "src/refund.ts": [
        "// @req PAY-1",
        "export function refund(key: string) {",
        "  return key; // @req PAY-2, PAY-3",
        "}",
        "/**",
        " * Cancels a refund.",
        " * @req PAY-4 PAY-5 handles cancellation",
        " * @task T003",
        " */",
        "/*",
        "   @req PAY-6",
        "*/",
        "",
      ].join("\n"),
      "py/refund.py": "# @req PAY-7\ndef refund():\n    return 1  # @req: PAY-8\n",
      "go/refund.go": "package refund\n\n// @req PAY-9\nfunc Refund() {}\n",
      "db/schema.sql": "-- @req DB-1\nCREATE TABLE t (id int); /* @req DB-2 */\n",
      "bin/run.sh": "#!/bin/sh\n# @req OPS-1\necho ok # @req OPS-2\n",
      "web/index.html": "<html>\n<!-- @req WEB-1 -->\n<!--\n  @req WEB-2\n-->\n</html>\n",
      "tests/refund.test.ts": "// @verifies PAY-1\n",
    });
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      "bin/run.sh:2:8 implements OPS-1",
      "bin/run.sh:3:16 implements OPS-2",
      "db/schema.sql:1:9 implements DB-1",
      "db/schema.sql:2:34 implements DB-2",
      "go/refund.go:3:9 implements PAY-9",
      "py/refund.py:1:8 implements PAY-7",
      "py/refund.py:3:23 implements PAY-8",
      "src/refund.ts:1:9 implements PAY-1",
      "src/refund.ts:3:23 implements PAY-2",
      "src/refund.ts:3:30 implements PAY-3",
      "src/refund.ts:7:9 implements PAY-4",
      "src/refund.ts:7:15 implements PAY-5",
      "src/refund.ts:8:10 implements task T003",
      "src/refund.ts:11:9 implements PAY-6",
      "tests/refund.test.ts:1:14 verifies PAY-1",
      "web/index.html:2:11 implements WEB-1",
      "web/index.html:4:8 implements WEB-2",
    ]);
    expect(r.links.every((l) => l.source === "annotation")).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.files).toBe(7);
    expect(r.filesWithLinks).toBe(7);
  });

  it("do not count inside string literals, outside comments, or as part of a longer word", async () => {
    const root = repo({
      "src/a.ts": [
        'const example = "@req PAY-1 is how you write it";',
        "const t = `// @req PAY-2`;",
        "const s = '/* @req PAY-3 */';",
        'log("x"); // the string "@req" above is an example: @req PAY-4',
        "@req PAY-5",
        "/** @requires PAY-6, see me@req.example */",
        "// @req",
        "",
      ].join("\n"),
      "py/a.py": 'EXAMPLE = "# @req PAY-7"\nX = "a" + \'b\'  # @req PAY-8\n',
      "go/a.go": "package a\n\nvar s = `// @req PAY-9`\nvar c = '\"' // @req PAY-10\n",
      "bin/a.sh": 'echo "# @req OPS-1"\necho a#b @req OPS-2\n',
      "src/lib.rs": "fn f<'a>(x: &'a str) {} // @req RS-1\n",
    });
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      "go/a.go:4:21 implements PAY-10",
      "py/a.py:2:23 implements PAY-8",
      "src/a.ts:4:58 implements PAY-4",
      "src/lib.rs:1:33 implements RS-1",
    ]);
  });

  it("read every task key shape: letter suffixes, title keys, repeat numbers, nested scopes", async () => {
    const line = "// @task T105a 3.8@2 _write-the-parser billing/tax/_write-docs@3 shop/T2b then prose 1.2";
    const root = repo({
      "src/a.ts": `${line}\n// @task: 3.8@2. Done\n// @task 3.8@2x, _1st-step\n// @task _ words\n`,
    });
    const col = (id: string) => line.indexOf(id) + 1;
    expect(brief((await scan(root)).links)).toEqual([
      `src/a.ts:1:${col("T105a")} implements task T105a`,
      `src/a.ts:1:${col("3.8@2")} implements task 3.8@2`,
      `src/a.ts:1:${col("_write-the-parser")} implements task _write-the-parser`,
      `src/a.ts:1:${col("billing/tax/")} implements task billing/tax/_write-docs@3`,
      `src/a.ts:1:${col("shop/T2b")} implements task shop/T2b`,
      // A sentence may end right after a repeat number; `@2x` is not one, so the ID stops before it.
      "src/a.ts:2:11 implements task 3.8@2",
      "src/a.ts:3:10 implements task 3.8",
      // A lone `_` starts no key.
    ]);
  });

  it("count columns in UTF-16 code units after a byte order mark, and read CRLF files", async () => {
    const root = repo({ "src/é.ts": "\uFEFF// @req PAY-1\r\nconst s = 'é😀'; // @req PAY-2\r\n" });
    const r = await scan(root);
    expect(brief(r.links)).toEqual(["src/é.ts:1:9 implements PAY-1", "src/é.ts:2:26 implements PAY-2"]);
  });
});

describe("Markdown", () => {
  it("links by [[ID]] and by annotations in HTML comments, never inside fences or inline code", async () => {
    const root = repo({
      "docs/refunds.md": [
        "# Refunds",
        "",
        "See [[PAY-1]] and [[payments/refunds-are-idempotent]].",
        "<!-- @req PAY-2 -->",
        "Writing `@req PAY-3` or `[[PAY-4]]` in code is an example; so is @req PAY-5 in prose.",
        "",
        "```ts",
        "// @req PAY-6",
        "const x = [[PAY-7]];",
        "```",
        "",
        "~~~~",
        "<!-- @req PAY-8 -->",
        "```",
        "still fenced [[PAY-9]]",
        "~~~~",
        "<!--",
        "@verifies PAY-10",
        "@task T004",
        "-->",
        "",
      ].join("\n"),
    });
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      "docs/refunds.md:3:7 documents PAY-1",
      "docs/refunds.md:3:21 documents payments/refunds-are-idempotent",
      "docs/refunds.md:4:11 documents PAY-2",
      "docs/refunds.md:18:11 verifies PAY-10",
      "docs/refunds.md:19:7 documents task T004",
    ]);
    expect(r.links.every((l) => l.source === "markdown")).toBe(true);
  });

  it("skips the specs, changes and constitution of a project nested inside, not its other pages", async () => {
    const root = repo({
      "examples/shop/keel/specs/pay/spec.md": "See [[PAY-2]].\n",
      "examples/shop/keel/changes/x/proposal.md": "See [[PAY-4]].\n",
      "examples/shop/keel/constitution.md": "See [[PAY-5]].\n",
      "examples/shop/README.md": "See [[PAY-3]].\n",
    });
    expect(brief((await scan(root)).links)).toEqual(["examples/shop/README.md:1:7 documents PAY-3"]);
  });

  it("counts only the project's IDs in test names once it knows them, and no annotation in a backtick example", async () => {
    const test = 'it("decodes UTF-8 for PAY-1", () => {});\n';
    const code = "// Write `@req PAY-1` above the code; @req PAY-2\n";
    const root = repo({ "tests/codec.test.ts": test, "src/a.ts": code });
    expect(brief((await scan(root, { knownIds: ["PAY-1", "PAY-2"] })).links)).toEqual([
      `src/a.ts:1:${code.lastIndexOf("PAY-2") + 1} implements PAY-2`,
      `tests/codec.test.ts:1:${test.indexOf("PAY-1") + 1} verifies PAY-1`,
    ]);
    expect(brief((await scan(root, { cache: false })).links)).toContain(
      `tests/codec.test.ts:1:${test.indexOf("UTF-8") + 1} verifies UTF-8`,
    );
  });

  it("never scans keel/ or openspec/: specs are not code", async () => {
    const root = repo({
      "keel/specs/pay/spec.md": "See [[PAY-2]].\n<!-- @req PAY-3 -->\n",
      "openspec/specs/pay/spec.md": "See [[PAY-4]].\n",
      "README.md": "See [[PAY-1]].\n",
    });
    const r = await scan(root);
    expect(brief(r.links)).toEqual(["README.md:1:7 documents PAY-1"]);
    expect(r.files).toBe(1);
  });
});

describe("test names", () => {
  it("link a test whose declared name holds a requirement ID, in several languages", async () => {
    const root = repo({
      "tests/refund.test.ts": [
        'describe("PAY-1 refunds", () => {',
        '  it("is idempotent (PAY-2, PAY-3)", () => {',
        '    expect(refund("PAY-4")).toBe(1);',
        "  });",
        '  test.each([1, 2])("PAY-5 case %i", () => {});',
        "});",
        "",
      ].join("\n"),
      "tests/test_refund.py":
        'def test_refund():\n    """PAY-6: refunds are idempotent."""\n    assert "PAY-7"\n',
      "refund/refund_test.go": [
        "package refund",
        "",
        "func TestRefund(t *testing.T) {",
        '\tt.Run("PAY-8 repeat", func(t *testing.T) {})',
        '\tt.Log("PAY-9")',
        "}",
        "",
      ].join("\n"),
      "src/test/java/RefundTest.java": [
        "class RefundTest {",
        "  @Test",
        '  @DisplayName("PAY-10 refunds once")',
        "  void refundsOnce() {}",
        "}",
        "",
      ].join("\n"),
      "src/refund.ts": 'it("PAY-11 is not a test here", () => {});\n',
    });
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      "refund/refund_test.go:4:9 verifies PAY-8",
      "src/test/java/RefundTest.java:3:17 verifies PAY-10",
      "tests/refund.test.ts:1:11 verifies PAY-1",
      "tests/refund.test.ts:2:22 verifies PAY-2",
      "tests/refund.test.ts:2:29 verifies PAY-3",
      "tests/refund.test.ts:5:22 verifies PAY-5",
      "tests/test_refund.py:2:8 verifies PAY-6",
    ]);
    expect(r.links.every((l) => l.source === "test-name")).toBe(true);
  });

  it("also name IDs the project knows that are not CAP-N shaped", async () => {
    const files = { "tests/tax.test.ts": 'it("billing.tax-2 rounds half up", () => {});\n' };
    expect((await scan(repo(files))).links).toEqual([]);
    const r = await scan(repo(files), { knownIds: ["billing.tax-2"] });
    expect(brief(r.links)).toEqual(["tests/tax.test.ts:1:5 verifies billing.tax-2"]);
  });
});

describe("commit trailers", () => {
  it("come from every commit reachable from HEAD, one git log call, only from the trailer block", async () => {
    const root = repo({ "a.txt": "a\n" }, "Add refunds\n\nImplements: PAY-1, PAY-2\nTask: T003\n");
    writeFile(root, "b.txt", "b\n");
    const second = commitAll(root, "Test refunds\n\nVerifies: PAY-3\nSigned-off-by: Dev <dev@example.com>\n");
    writeFile(root, "c.txt", "c\n");
    commitAll(
      root,
      "Not a trailer\n\nImplements: PAY-9\n\nthe last paragraph is prose, so the line above is not a trailer.",
    );
    const first = git(root, "rev-list", "--max-parents=0", "HEAD").trim();
    const r = await scanRepository(root);
    const trailers = r.links.filter((l) => l.source === "trailer");
    expect(trailers).toEqual([
      {
        kind: "commit",
        source: "trailer",
        target: "PAY-3",
        targetType: "req",
        file: `commit:${second}`,
        line: 0,
        col: 0,
        trailer: "Verifies",
      },
      {
        kind: "commit",
        source: "trailer",
        target: "PAY-1",
        targetType: "req",
        file: `commit:${first}`,
        line: 0,
        col: 0,
        trailer: "Implements",
      },
      {
        kind: "commit",
        source: "trailer",
        target: "PAY-2",
        targetType: "req",
        file: `commit:${first}`,
        line: 0,
        col: 0,
        trailer: "Implements",
      },
      {
        kind: "commit",
        source: "trailer",
        target: "T003",
        targetType: "task",
        file: `commit:${first}`,
        line: 0,
        col: 0,
        trailer: "Task",
      },
    ]);
    expect((await scanRepository(root, { commits: false })).links).toEqual([]);
  });

  it("take every task key shape: letter suffixes, title keys, repeat numbers, nested scopes", async () => {
    const keys = ["T105a", "_write-the-parser", "3.8@2", "billing/tax/_write-docs@3"];
    const root = repo({ "a.txt": "a\n" }, `Add refunds\n\nTask: ${keys.join(", ")}\n`);
    const trailers = (await scanRepository(root)).links.filter((l) => l.source === "trailer");
    expect(trailers.map((l) => [l.targetType, l.target])).toEqual(keys.map((k) => ["task", k]));
  });

  it("are none outside git or before the first commit", async () => {
    expect((await scanRepository(project({ "a.ts": "// @req PAY-1\n" }))).links).toHaveLength(1);
    const root = project({ "a.ts": "// @req PAY-1\n" });
    git(root, "init", "-q");
    expect((await scanRepository(root)).links).toHaveLength(1);
  });
});

describe("which files", () => {
  it("in git: tracked and untracked files, not ignored ones, and never through a symbolic link", async () => {
    const outside = project({ "secret.ts": "// @req OUT-1\n", "dir/x.ts": "// @req OUT-2\n" });
    const root = repo({
      ".gitignore": "build/\n*.log\n!keep.log\n",
      "src/a.ts": "// @req PAY-1\n",
      "build/out.js": "// @req PAY-2\n",
      "debug.log": "// @req PAY-3\n",
      "keep.log": "// @req PAY-4\n",
    });
    writeFile(root, "src/new.ts", "// @req PAY-5\n");
    writeFile(root, "untracked.log", "// @req PAY-6\n");
    symlinkSync(join(outside, "secret.ts"), join(root, "src/link.ts"));
    symlinkSync(join(outside, "dir"), join(root, "linked-dir"));
    symlinkSync(join(root, "src/a.ts"), join(root, "src/alias.ts"));
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      "keep.log:1:9 implements PAY-4",
      "src/a.ts:1:9 implements PAY-1",
      "src/new.ts:1:9 implements PAY-5",
    ]);
    expect(r.problems).toEqual([]);
  });

  it("in git: a tracked folder later replaced by a link out of the project is not followed", async () => {
    const outside = project({ "lib/x.ts": "// @req OUT-1\n" });
    const root = repo({ "lib/x.ts": "// @req PAY-1\n", "a.ts": "// @req PAY-2\n" });
    execFileSync("rm", ["-r", join(root, "lib")]);
    symlinkSync(join(outside, "lib"), join(root, "lib"));
    expect(git(root, "ls-files", "--cached")).toContain("lib/x.ts");
    const r = await scan(root);
    expect(brief(r.links)).toEqual(["a.ts:1:9 implements PAY-2"]);
  });

  it("outside git: a walk that honours nested .gitignore files and skips .git, node_modules, .keel", async () => {
    const outside = project({ "secret.ts": "// @req OUT-1\n" });
    const root = project({
      ".gitignore": "dist/\n*.gen.ts\n",
      "src/a.ts": "// @req PAY-1\n",
      "src/b.gen.ts": "// @req PAY-2\n",
      "dist/c.ts": "// @req PAY-3\n",
      "pkg/.gitignore": "local/\n!keep.gen.ts\n",
      "pkg/local/d.ts": "// @req PAY-4\n",
      "pkg/keep.gen.ts": "// @req PAY-5\n",
      "pkg/e.ts": "// @req PAY-6\n",
      "node_modules/m/index.js": "// @req PAY-7\n",
      "pkg/node_modules/m/index.js": "// @req PAY-8\n",
      ".keel/x.ts": "// @req PAY-9\n",
      "keel/specs/pay/spec.md": "[[PAY-10]]\n",
      ".git-like/f.ts": "// @req PAY-11\n",
    });
    symlinkSync(join(outside, "secret.ts"), join(root, "src/link.ts"));
    mkdirSync(join(root, "loop"));
    symlinkSync(root, join(root, "loop/root"));
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      ".git-like/f.ts:1:9 implements PAY-11",
      "pkg/e.ts:1:9 implements PAY-6",
      "pkg/keep.gen.ts:1:9 implements PAY-5",
      "src/a.ts:1:9 implements PAY-1",
    ]);
  });
});

describe("bad input: positioned problems, never a crash", () => {
  it("binary files holding an annotation are reported at their first NUL byte; other binaries are skipped", async () => {
    const root = repo({
      "assets/logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]),
      "bin/tool": Buffer.concat([Buffer.from("ELF\nab"), Buffer.from([0]), Buffer.from(" // @req PAY-1\n")]),
    });
    const r = await scan(root);
    expect(r.links).toEqual([]);
    expect(r.problems).toEqual([
      {
        file: "bin/tool",
        line: 2,
        col: 3,
        rule: "trace/binary",
        severity: "warning",
        message: expect.stringContaining("binary file"),
      },
    ]);
    expect(r.files).toBe(2);
  });

  it("invalid UTF-8 is reported at the first bad byte and the file is still scanned", async () => {
    const root = repo({
      "src/latin1.ts": Buffer.concat([
        Buffer.from("// caf"),
        Buffer.from([0xe9]),
        Buffer.from(" @req PAY-1\nconst x = 1; // @req PAY-2\n"),
      ]),
    });
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      "src/latin1.ts:1:14 implements PAY-1",
      "src/latin1.ts:2:22 implements PAY-2",
    ]);
    expect(r.problems).toEqual([
      {
        file: "src/latin1.ts",
        line: 1,
        col: 7,
        rule: "trace/invalid-utf8",
        severity: "warning",
        message: "invalid UTF-8 at byte 6: the file was scanned with each bad byte read as U+FFFD",
      },
    ]);
  });

  it("a line over 1 MiB is not lexed: its annotation is reported, the rest of the file is scanned", async () => {
    const long = `const data = "${"x".repeat(1_200_000)}"; // @req PAY-1`;
    const root = repo({
      "dist/bundle.js": `// @req PAY-2\n${long}\n// @req PAY-3\n`,
      "small.js": `${"y".repeat(5000)}\n`,
    });
    const r = await scan(root);
    expect(brief(r.links)).toEqual([
      "dist/bundle.js:1:9 implements PAY-2",
      "dist/bundle.js:3:9 implements PAY-3",
    ]);
    expect(r.problems).toEqual([
      {
        file: "dist/bundle.js",
        line: 2,
        col: long.indexOf("@req") + 1,
        rule: "trace/long-line",
        severity: "warning",
        message: "line 2 is 1.1 MiB long (the limit is 1.0 MiB): the annotations on it are not read",
      },
    ]);
  });

  it("a file over the size limit is skipped with trace/too-large", async () => {
    const root = repo({
      "data/dump.sql": `-- @req PAY-1\n${"x".repeat(3 * 1024 * 1024)}\n`,
      "a.ts": "// @req PAY-2\n",
    });
    const r = await scan(root, { maxFileBytes: 2 * 1024 * 1024 });
    expect(brief(r.links)).toEqual(["a.ts:1:9 implements PAY-2"]);
    expect(r.problems).toEqual([
      {
        file: "data/dump.sql",
        line: 1,
        col: 1,
        rule: "trace/too-large",
        severity: "info",
        message: "file is 3.0 MiB; files over 2.0 MiB are not scanned for trace links",
      },
    ]);
    // The default limit (16 MiB) reads it.
    expect(brief((await scan(root)).links)).toContain("data/dump.sql:1:9 implements PAY-1");
  });

  it.skipIf(process.getuid?.() === 0)("an unreadable file is reported with trace/unreadable", async () => {
    const root = repo({ "a.ts": "// @req PAY-1\n", "b.ts": "// @req PAY-2\n" });
    chmodSync(join(root, "a.ts"), 0o000);
    const r = await scan(root);
    expect(brief(r.links)).toEqual(["b.ts:1:9 implements PAY-2"]);
    expect(r.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.rule}`)).toEqual([
      "a.ts:1:1 trace/unreadable",
    ]);
  });

  it("a FIFO or a vanished file where git tracks a file does not stall or fail the scan", async () => {
    const root = repo({
      "gone.ts": "// @req PAY-1\n",
      "pipe.ts": "// @req PAY-3\n",
      "a.ts": "// @req PAY-2\n",
    });
    execFileSync("rm", [join(root, "gone.ts"), join(root, "pipe.ts")]);
    // Opened without O_NONBLOCK, a FIFO with no writer would block the scan for ever.
    execFileSync("mkfifo", [join(root, "pipe.ts")]);
    expect(git(root, "ls-files", "--cached").split("\n")).toEqual(["a.ts", "gone.ts", "pipe.ts", ""]);
    const r = await scan(root);
    expect(brief(r.links)).toEqual(["a.ts:1:9 implements PAY-2"]);
    expect(r.problems).toEqual([]);
  });
});

describe("worker threads", () => {
  /** ~3,000 files in a Keel project, a deterministic mix of languages, tests, docs and a few problems. */
  function bigTree(): string {
    const files: Record<string, string | Buffer> = {
      "keel/keel.yaml": "version: 1\n",
      ".gitignore": "out/\n",
    };
    for (let i = 0; i < 3000; i++) {
      const dir = `pkg${i % 37}/m${i % 11}`;
      const id = `CAP${i % 13}-${i % 29}`;
      const filler = `const value${i} = ${i};\n`.repeat(1 + (i % 40));
      if (i % 5 === 0) files[`${dir}/f${i}.ts`] = `${filler}// @req ${id}\nconst s = "@req NOT-${i}";\n`;
      else if (i % 7 === 0) files[`${dir}/tests/t${i}.test.ts`] = `it("${id} works", () => {});\n${filler}`;
      else if (i % 11 === 0) files[`${dir}/d${i}.md`] = `See [[${id}]].\n\n\`\`\`\n[[NOT-${i}]]\n\`\`\`\n`;
      else if (i % 13 === 0) files[`${dir}/p${i}.py`] = `# @verifies ${id}\n${"x = 1\n".repeat(i % 50)}`;
      else files[`${dir}/plain${i}.go`] = `package m\n\n${filler.replace(/const/g, "var")}`;
    }
    files["bad/latin1.ts"] = Buffer.from([0x2f, 0x2f, 0x20, 0xe9, 0x20, ...Buffer.from("@req LAT-1\n")]);
    files["bad/blob.bin"] = Buffer.from([0, 1, 2, ...Buffer.from("@req BIN-1")]);
    files["out/ignored.ts"] = "// @req IGN-1\n";
    return repo(files);
  }

  it("give exactly the single-thread result on a tree of ~3,000 files", async () => {
    const root = bigTree();
    writeFiles(root, { "untracked/u.ts": "// @req UNT-1\n" });
    const parallel = jsonOut(keel(root, "trace", "scan", "--no-cache", "--json"));
    const single = jsonOut(keelWith({ KEEL_WORKERS: "0" }, root, "trace", "scan", "--no-cache", "--json"));
    expect(parallel.workers).toBeGreaterThan(0);
    expect(single.workers).toBe(0);
    expect(parallel.cachedFiles).toBe(0);
    expect(single.cachedFiles).toBe(0);
    expect(parallel.files).toBe(3004);
    expect(parallel.links.length).toBeGreaterThan(900);
    expect({ ...parallel, workers: 0 }).toEqual(single);
    const targets = new Set(parallel.links.map((l: RawLink) => l.target));
    for (const t of ["LAT-1", "UNT-1"]) expect(targets.has(t)).toBe(true);
    for (const t of ["BIN-1", "IGN-1", "NOT-5", "NOT-11"]) expect(targets.has(t)).toBe(false);
    expect(parallel.problems.map((p: { rule: string }) => p.rule)).toEqual([
      "trace/binary",
      "trace/invalid-utf8",
    ]);
    // And the in-process scan (from source, no worker bundle) agrees with both, cold and then from its cache.
    const cold = await scanRepository(root);
    expect({ version: 1, ...cold }).toEqual(single);
    const warm = await scanRepository(root);
    expect(warm.cachedFiles).toBe(3003);
    expect({ version: 1, ...warm, cachedFiles: 0 }).toEqual(single);
  });
});

describe("the scan cache", () => {
  const files = {
    "src/a.ts": "// @req PAY-1\n",
    "src/b.ts": "export const b = 1;\n",
    "tests/c.test.ts": 'it("PAY-2 works", () => {});\n',
    "bad.ts": Buffer.from([0x2f, 0x2f, 0xff, 0x20, ...Buffer.from("@req PAY-3\n")]),
  };

  it("answers unchanged tracked files without reading them, and equals a full scan", async () => {
    const root = repo(files);
    writeFile(root, "untracked.ts", "// @req PAY-4\n");
    const cold = await scan(root);
    expect(cold.cachedFiles).toBe(0);
    expect(brief(cold.links)).toEqual([
      "bad.ts:1:10 implements PAY-3",
      "src/a.ts:1:9 implements PAY-1",
      "tests/c.test.ts:1:5 verifies PAY-2",
      "untracked.ts:1:9 implements PAY-4",
    ]);
    const warm = await scan(root);
    expect(warm.cachedFiles).toBe(4); // the untracked file is read every time
    expect({ ...warm, cachedFiles: 0 }).toEqual(cold);
    // `cache: false` reads every file again, and finds the same.
    const uncached = await scan(root, { cache: false });
    expect(uncached.cachedFiles).toBe(0);
    expect(uncached).toEqual(cold);
  });

  it("sees edits, commits, deletions and new files; never serves a stale entry", async () => {
    const root = repo(files);
    await scan(root);
    writeFile(root, "src/b.ts", "export const b = 1; // @req PAY-5\n"); // edited, not committed
    let r = await scan(root);
    expect(brief(r.links)).toContain("src/b.ts:1:29 implements PAY-5");
    expect(r.cachedFiles).toBe(3);
    commitAll(root, "b");
    r = await scan(root); // a new blob: read once more, then cached
    expect(brief(r.links)).toContain("src/b.ts:1:29 implements PAY-5");
    expect(r.cachedFiles).toBe(3);
    r = await scan(root);
    expect(r.cachedFiles).toBe(4);
    expect(brief(r.links)).toContain("src/b.ts:1:29 implements PAY-5");
    git(root, "rm", "-q", "src/a.ts");
    writeFile(root, "src/d.ts", "// @req PAY-6\n");
    git(root, "add", "src/d.ts");
    r = await scan(root);
    expect(brief(r.links)).toEqual([
      "bad.ts:1:10 implements PAY-3",
      "src/b.ts:1:29 implements PAY-5",
      "src/d.ts:1:9 implements PAY-6",
      "tests/c.test.ts:1:5 verifies PAY-2",
    ]);
    expect(r.problems.map((p) => p.rule)).toEqual(["trace/invalid-utf8"]);
    // A same-size edit that even keeps the old modification time is seen (git compares ctime, and content when
    // the stat data is too recent to trust).
    const before = statSync(join(root, "src/d.ts"));
    writeFile(root, "src/d.ts", "// @req PAY-8\n");
    utimesSync(join(root, "src/d.ts"), before.atime, before.mtime);
    r = await scan(root);
    expect(brief(r.links)).toContain("src/d.ts:1:9 implements PAY-8");
    expect(brief(r.links)).not.toContain("src/d.ts:1:9 implements PAY-6");
    // A file git is told to assume unchanged is read every time, not trusted to the cache.
    git(root, "update-index", "--assume-unchanged", "src/b.ts");
    writeFile(root, "src/b.ts", "export const b = 2; // @req PAY-7\n");
    r = await scan(root);
    expect(brief(r.links)).toContain("src/b.ts:1:29 implements PAY-7");
  });

  it("is not used when written with other known IDs, or when damaged", async () => {
    const root = repo({ "tests/tax.test.ts": 'it("billing.tax-2 rounds", () => {});\n' });
    expect((await scan(root)).links).toEqual([]);
    const known = await scan(root, { knownIds: ["billing.tax-2"] });
    expect(known.cachedFiles).toBe(0);
    expect(brief(known.links)).toEqual(["tests/tax.test.ts:1:5 verifies billing.tax-2"]);
    writeFile(root, ".keel/trace-scan.cache", "garbage\n");
    const r = await scan(root, { knownIds: ["billing.tax-2"] });
    expect(r.cachedFiles).toBe(0);
    expect(brief(r.links)).toEqual(["tests/tax.test.ts:1:5 verifies billing.tax-2"]);
    expect((await scan(root, { knownIds: ["billing.tax-2"] })).cachedFiles).toBe(1);
  });

  it("is not written outside git", async () => {
    const root = project({ "a.ts": "// @req PAY-1\n" });
    await scan(root);
    expect(existsSync(join(root, ".keel"))).toBe(false);
  });
});

describe("keel trace scan", () => {
  it("prints each link at its place and the problems on stderr", () => {
    const root = repo(
      {
        "keel/keel.yaml": "version: 1\n",
        "src/a.ts": "// @req PAY-1\n",
        "bad.ts": Buffer.from([0x2f, 0x2f, 0xff, 0x20, ...Buffer.from("@req PAY-2\n")]),
      },
      "Refunds\n\nImplements: PAY-1\n",
    );
    const sha = git(root, "rev-parse", "HEAD").trim();
    const run = keel(root, "trace", "scan");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        "bad.ts:1:10  implements PAY-2  annotation",
        "src/a.ts:1:9  implements PAY-1  annotation",
        `commit:${sha}  commit     PAY-1  Implements:`,
        "3 links in 2 of 2 files and 1 commit",
        "",
      ].join("\n"),
    );
    expect(run.stderr).toBe(
      "warning: bad.ts:1:3: invalid UTF-8 at byte 2: the file was scanned with each bad byte read as U+FFFD [trace/invalid-utf8]\n",
    );
    expect(keel(root, "trace", "scan", "--no-commits", "--json").stdout).not.toContain("commit:");
    // Without a subcommand `keel trace` shows the judged chain; a word that names no requirement is refused.
    expect(keel(root, "trace").code).toBe(0);
    const bogus = keel(root, "trace", "bogus");
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("no requirement bogus");
  });
});
