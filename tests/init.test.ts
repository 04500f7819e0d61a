import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DRIVER_ARGS, shellWord } from "../src/core/changes/driver-command.js";
import {
  configTemplate,
  constitutionTemplate,
  detectGates,
  findInitRoot,
  gitignoreIgnoresKeel,
  initProject,
  yamlString,
} from "../src/core/init.js";
import { parseConstitution } from "../src/format/constitution.js";
import { DEFAULT_VAGUE_TERMS, defaultConfig, parseConfig } from "../src/workspace/config.js";
import { KeelError } from "../src/workspace/errors.js";
import { CLI, keel, keelWith } from "./support/cli.js";
import { pathWithoutKeel } from "./support/install.js";

/** Every path with its type, mode and content hash (links by target, never followed). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(dir, name);
      const st = lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(abs, r);
      } else out[r] = `file ${mode} ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`;
    }
  };
  walk(root, "");
  return out;
}

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "keel-init-")));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
/** A fresh folder that looks like a git repository (a `.git` folder is all `keel init` looks for). */
function repo(files: Record<string, string | Buffer> = {}, git = true): string {
  const root = join(tmp, `repo${++counter}`);
  mkdirSync(root);
  if (git) mkdirSync(join(root, ".git"));
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  return root;
}

const read = (root: string, rel: string) => readFileSync(join(root, rel), "utf8");

describe("initProject", () => {
  // @verifies INIT-1
  it("creates the layout in an empty repository", () => {
    const root = repo();
    const report = initProject(root);
    expect(report).toEqual({
      version: 1,
      root,
      created: ["keel/keel.yaml", "keel/constitution.md", "keel/specs/", "keel/changes/", ".gitignore"],
      kept: [],
      updated: [],
      warnings: [],
    });
    expect(readFileSync(join(root, "keel/specs/.gitkeep"), "utf8")).toBe("");
    expect(readFileSync(join(root, "keel/changes/.gitkeep"), "utf8")).toBe("");
    expect(read(root, ".gitignore")).toBe(".keel/\n");
    expect(parseConfig(read(root, "keel/keel.yaml")).project).toBe(basename(root));
  });

  // @verifies INIT-5
  it("is idempotent: a second run keeps everything and changes no byte", () => {
    const root = repo();
    initProject(root);
    const before = snapshot(root);
    const again = initProject(root);
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
    expect(again.kept).toEqual([
      "keel/keel.yaml",
      "keel/constitution.md",
      "keel/specs/",
      "keel/changes/",
      ".gitignore",
    ]);
    expect(again.warnings).toEqual([]);
    expect(snapshot(root)).toEqual(before);
  });

  // @verifies INIT-6
  it("never overwrites existing files, and creates only what is missing", () => {
    const config = "version: 1\nproject: mine # my comment\nvalidate:\n  strict: true\n";
    const constitution = "# Ours\n\n## Principles\n\n### Principle: Ours {#P-1}\nOur own words.\n";
    const root = repo({ "keel/keel.yaml": config, "keel/constitution.md": constitution });
    const report = initProject(root);
    expect(report.kept).toEqual(["keel/keel.yaml", "keel/constitution.md"]);
    expect(report.created).toEqual(["keel/specs/", "keel/changes/", ".gitignore"]);
    expect(report.warnings).toEqual([]);
    expect(read(root, "keel/keel.yaml")).toBe(config);
    expect(read(root, "keel/constitution.md")).toBe(constitution);
  });

  // @verifies INIT-6
  it("leaves an invalid keel.yaml alone and reports it with its line", () => {
    const config = "version: 1\nproject: mine\nvalidate:\n  strictt: true\n";
    const root = repo({ "keel/keel.yaml": config });
    const report = initProject(root);
    expect(report.kept).toContain("keel/keel.yaml");
    expect(report.warnings).toEqual([
      {
        file: "keel/keel.yaml",
        line: 4,
        col: 1,
        message: "`validate.strictt` is not a known key; left alone",
        hint: "see docs/cli.md#configuration for every key",
      },
    ]);
    expect(read(root, "keel/keel.yaml")).toBe(config);
  });

  // @verifies INIT-6
  it("leaves a keel.yaml with broken YAML or bad UTF-8 alone, with its position", () => {
    const broken = repo({ "keel/keel.yaml": "version: 1\nproject: [oops\n" });
    const w = initProject(broken).warnings;
    expect(w).toHaveLength(1);
    expect(w[0]?.message).toMatch(/^invalid YAML in keel\/keel\.yaml: .+; left alone$/);
    expect(w[0]?.line).toBeGreaterThanOrEqual(2);
    const latin1 = repo({ "keel/keel.yaml": Buffer.from("version: 1\nproject: caf\xe9\n", "latin1") });
    expect(initProject(latin1).warnings).toEqual([
      expect.objectContaining({
        file: "keel/keel.yaml",
        line: 2,
        col: 13,
        message: "invalid UTF-8 at byte 23; left alone",
      }),
    ]);
  });

  it("keeps a dangling symbolic link where a file belongs, rather than replacing it", () => {
    const root = repo();
    mkdirSync(join(root, "keel"));
    symlinkSync("elsewhere.md", join(root, "keel/constitution.md"));
    const report = initProject(root);
    expect(report.kept).toContain("keel/constitution.md");
    expect(report.warnings).toEqual([expect.objectContaining({ file: "keel/constitution.md" })]);
    expect(lstatSync(join(root, "keel/constitution.md")).isSymbolicLink()).toBe(true);
  });

  it("adds a .gitkeep to an existing empty folder, and leaves a populated one as it is", () => {
    const root = repo({ "keel/specs/auth/spec.md": "# Auth\n" });
    mkdirSync(join(root, "keel/changes"));
    const report = initProject(root);
    expect(report.kept).toContain("keel/specs/");
    expect(report.created).toContain("keel/changes/.gitkeep");
    expect(existsSync(join(root, "keel/specs/.gitkeep"))).toBe(false);
    expect(existsSync(join(root, "keel/changes/.gitkeep"))).toBe(true);
  });

  it("warns about a file where a folder belongs and still creates the rest", () => {
    const root = repo({ "keel/specs": "not a folder\n" });
    const report = initProject(root);
    expect(report.warnings).toEqual([
      expect.objectContaining({
        file: "keel/specs",
        message: "keel/specs exists but is not a folder; left alone",
      }),
    ]);
    expect(report.created).toEqual(["keel/keel.yaml", "keel/constitution.md", "keel/changes/", ".gitignore"]);
    expect(read(root, "keel/specs")).toBe("not a folder\n");
  });

  it("refuses, before writing anything, when keel is a file", () => {
    const root = repo({ keel: "a file\n", ".gitignore": "node_modules/\n" });
    const before = snapshot(root);
    expect(() => initProject(root)).toThrow(KeelError);
    expect(() => initProject(root)).toThrow("keel exists and is not a folder");
    expect(snapshot(root)).toEqual(before);
  });

  it("refuses to write through a keel/ link that leaves the project", () => {
    const outside = repo({}, false);
    const root = repo();
    symlinkSync(outside, join(root, "keel"));
    const before = snapshot(outside);
    expect(() => initProject(root)).toThrow(/symbolic link to a folder outside the project/);
    expect(snapshot(outside)).toEqual(before);
  });

  it("refuses a root folder that does not exist", () => {
    expect(() => initProject(join(tmp, "no-such-folder"))).toThrow(/folder not found/);
  });

  it("leaves no temporary files behind", () => {
    const root = repo({ ".gitignore": "dist/\n" });
    initProject(root);
    const names = Object.keys(snapshot(root));
    expect(names.filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});

// @verifies INIT-4
describe(".gitignore", () => {
  it("appends the entry after the existing bytes, with the file's LF endings", () => {
    const root = repo({ ".gitignore": "node_modules/\ndist/\n" });
    expect(initProject(root).updated).toEqual([".gitignore"]);
    expect(read(root, ".gitignore")).toBe("node_modules/\ndist/\n.keel/\n");
  });

  it("keeps CRLF endings and adds the missing final line ending first", () => {
    const root = repo({ ".gitignore": "node_modules/\r\ndist" });
    initProject(root);
    expect(read(root, ".gitignore")).toBe("node_modules/\r\ndist\r\n.keel/\r\n");
  });

  it("adds a line ending to a file without one", () => {
    const root = repo({ ".gitignore": "dist/" });
    initProject(root);
    expect(read(root, ".gitignore")).toBe("dist/\n.keel/\n");
  });

  it("keeps bytes that are not UTF-8 exactly", () => {
    const original = Buffer.from("# caf\xe9\ndist/\n", "latin1");
    const root = repo({ ".gitignore": original });
    initProject(root);
    expect(readFileSync(join(root, ".gitignore"))).toEqual(
      Buffer.concat([original, Buffer.from(".keel/\n")]),
    );
  });

  it("keeps the file's mode", () => {
    const root = repo({ ".gitignore": "dist/\n" });
    chmodSync(join(root, ".gitignore"), 0o600);
    initProject(root);
    expect(statSync(join(root, ".gitignore")).mode & 0o777).toBe(0o600);
  });

  it.each([".keel", ".keel/", "/.keel", "/.keel/", "**/.keel/", ".keel/   ", ".keel/*"])(
    "leaves a file that already ignores .keel with %j untouched",
    (line) => {
      const text = `node_modules/\r\n${line}\r\n# end`;
      const root = repo({ ".gitignore": text });
      const report = initProject(root);
      expect(report.kept).toContain(".gitignore");
      expect(report.updated).toEqual([]);
      expect(read(root, ".gitignore")).toBe(text);
    },
  );

  it("updates a .gitignore symbolic link at its target inside the project", () => {
    const root = repo({ "config/gitignore": "dist/\n" });
    symlinkSync("config/gitignore", join(root, ".gitignore"));
    expect(initProject(root).updated).toEqual([".gitignore"]);
    expect(lstatSync(join(root, ".gitignore")).isSymbolicLink()).toBe(true);
    expect(read(root, "config/gitignore")).toBe("dist/\n.keel/\n");
  });

  it("recognises which lines ignore the state folder", () => {
    expect(gitignoreIgnoresKeel("")).toBe(false);
    expect(gitignoreIgnoresKeel(".keel/\n")).toBe(true);
    expect(gitignoreIgnoresKeel("\uFEFF.keel\n")).toBe(true);
    expect(gitignoreIgnoresKeel("# .keel/\n")).toBe(false);
    expect(gitignoreIgnoresKeel(".keelx\nsub/.keel/\n.keel.bak\n")).toBe(false);
    expect(gitignoreIgnoresKeel(".keel/\n!.keel/\n")).toBe(false);
    expect(gitignoreIgnoresKeel("!.keel/\n.keel/\n")).toBe(true);
    expect(gitignoreIgnoresKeel("a\rb\r.keel\r")).toBe(true);
  });
});

describe("templates", () => {
  // @verifies INIT-2
  it("the config template documents every key and parses to the defaults (plus the project name)", () => {
    const text = configTemplate("shop");
    const defaults = defaultConfig();
    expect(parseConfig(text)).toEqual({
      ...defaults,
      project: "shop",
      policy: { ...defaults.policy, defaultLine: expect.any(Number) },
    });
    for (const key of [
      "version:",
      "project:",
      "validate:",
      "strict:",
      "vague_terms:",
      "rules:",
      "actors:",
      "default:",
      "roles:",
      "policy:",
      "areas:",
    ]) {
      const at = text.split("\n").findIndex((l) => l.trimStart().startsWith(key));
      expect(at, key).toBeGreaterThan(0);
      // Every key is documented by the comment line right above it.
      const above = text.split("\n")[at - 1];
      expect(above?.trimStart().startsWith("#"), key).toBe(true);
    }
    expect(parseConfig(text).validate.vagueTerms).toEqual(DEFAULT_VAGUE_TERMS);
  });

  it.each([
    "true",
    "123",
    "my project: x",
    "ünïcödé",
    "#hash",
    "- dash",
    "null",
    "a'b\"c",
    "1e5",
    "  padded  ",
  ])("quotes the project name %j so it reads back unchanged", (name) => {
    expect(parseConfig(configTemplate(name)).project).toBe(name);
    expect(parseConfig(`project: ${yamlString(name)}\n`).project).toBe(name);
  });

  // @verifies INIT-3
  it("the constitution template has six principles with P-N IDs", () => {
    const { constitution, diagnostics } = parseConstitution(
      constitutionTemplate(repo()),
      "keel/constitution.md",
    );
    expect(diagnostics).toEqual([]);
    expect(constitution.principles.map((p) => p.id)).toEqual(["P-1", "P-2", "P-3", "P-4", "P-5", "P-6"]);
    for (const p of constitution.principles) expect(p.text.length).toBeGreaterThan(80);
    // Without a known build file only Keel's own gate is named; the others say how to add one.
    expect(constitution.principles.map((p) => p.gate)).toEqual([
      "keel validate --strict",
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it.each([
    [
      { "package.json": '{"scripts":{"test":"vitest run","lint":"biome check ."}}' },
      "npm test",
      "npm run lint",
    ],
    [
      {
        "package.json": '{"scripts":{"test":"echo \\"Error: no test specified\\" && exit 1","build":"tsc"}}',
      },
      null,
      "npm run build",
    ],
    [{ "package.json": "{ not json" }, null, null],
    [{ "Cargo.toml": "[package]\n" }, "cargo test", "cargo clippy -- -D warnings"],
    [{ "go.mod": "module x\n" }, "go test ./...", "go vet ./..."],
    [{ "pyproject.toml": "[project]\n" }, "pytest", null],
    [{ Makefile: "build:\n\tcc x.c\ntest:\n\t./t\n" }, "make test", null],
  ])("names gate commands from the build files present (%j)", (files, test, check) => {
    const root = repo(files);
    expect(detectGates(root)).toEqual({ test, check });
    const gates = parseConstitution(constitutionTemplate(root), "c.md").constitution.principles.map(
      (p) => p.gate,
    );
    expect(gates).toEqual(["keel validate --strict", test, null, null, null, check]);
  });
});

// @verifies INIT-1
describe("findInitRoot", () => {
  it("walks up to the folder holding .git", () => {
    const root = repo();
    mkdirSync(join(root, "a/b"), { recursive: true });
    expect(findInitRoot(join(root, "a/b"))).toBe(root);
  });

  it("accepts a .git file (worktrees, submodules)", () => {
    const root = repo({ ".git": "gitdir: ../elsewhere\n" }, false);
    mkdirSync(join(root, "sub"));
    expect(findInitRoot(join(root, "sub"))).toBe(root);
  });

  // @verifies INIT-8
  it("uses the current folder when no parent holds .git", () => {
    const plain = repo({}, false);
    mkdirSync(join(plain, "inner"));
    // The temporary folder is not inside a git repository, so the start folder itself is the answer.
    expect(existsSync(join(tmp, ".git"))).toBe(false);
    expect(findInitRoot(join(plain, "inner"))).toBe(join(plain, "inner"));
  });
});

describe("keel init (CLI)", () => {
  // @verifies INIT-1, INIT-2
  it("creates the project at the git root from a subfolder, and it passes validate --strict", () => {
    const root = repo({ "package.json": '{"scripts":{"test":"vitest run"}}' });
    mkdirSync(join(root, "src/deep"), { recursive: true });
    const run = keel(join(root, "src/deep"), "init");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(
      [
        `keel init in ${root}`,
        "  created  keel/keel.yaml",
        "  created  keel/constitution.md",
        "  created  keel/specs/",
        "  created  keel/changes/",
        "  created  .gitignore",
        "next: write a capability spec in keel/specs/<capability>/spec.md, then run `keel validate`",
        "",
      ].join("\n"),
    );
    const strict = keel(root, "validate", "--strict", "--json");
    expect(strict.code, strict.stdout).toBe(0);
    expect(JSON.parse(strict.stdout)).toMatchObject({ ok: true, strict: true, findings: [] });
  });

  // @verifies INIT-5, INIT-7
  it("prints what it left alone on a second run, and --json gives created/kept/updated", () => {
    const root = repo({ ".gitignore": "dist/\n" });
    const first = keel(root, "init", "--json");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      version: 1,
      root,
      created: ["keel/keel.yaml", "keel/constitution.md", "keel/specs/", "keel/changes/"],
      kept: [],
      updated: [".gitignore"],
      warnings: [],
    });
    const second = keel(root, "init");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("  kept     keel/keel.yaml (already there, left alone)");
    expect(second.stdout).toContain("  kept     .gitignore (already there, left alone)");
    expect(second.stdout).toContain("nothing to do: the project is set up");
  });

  // @verifies TRU-11
  it("registers the merge driver of the Keel that runs it, says which, and finds that it starts", () => {
    const root = repo({}, false);
    execFileSync("git", ["init", "-q", root]);
    const driver = `${shellWord(process.execPath)} ${shellWord(CLI)} ${DRIVER_ARGS}`;
    // As from a shell where no `keel` is on PATH: the checkout's bundle is then started by its absolute path.
    const noKeel = { PATH: pathWithoutKeel() };
    const first = keelWith(noKeel, root, "init");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain(`  updated  git config merge.keel (driver: ${driver})\n`);
    const again = JSON.parse(keelWith(noKeel, root, "init", "--json").stdout);
    expect(again).toMatchObject({ mergeDriver: driver, updated: [], warnings: [] });
    expect(again.kept).toContain("git config merge.keel");
  });

  it("initialises the folder given with --root, not the git root", () => {
    const root = repo();
    mkdirSync(join(root, "services/api"), { recursive: true });
    const run = keel(tmp, "--root", join(root, "services/api"), "init", "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).root).toBe(join(root, "services/api"));
    expect(existsSync(join(root, "services/api/keel/keel.yaml"))).toBe(true);
    expect(existsSync(join(root, "keel"))).toBe(false);
  });

  it("warns on stderr about an invalid keel.yaml, with its position, and exits 0", () => {
    const root = repo({ "keel/keel.yaml": "version: 1\nproject: x\nfoo: bar\n" });
    const run = keel(root, "init");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      "warning: keel/keel.yaml:3:1: `foo` is not a known key; left alone\n  hint: see docs/cli.md#configuration for every key\n",
    );
    expect(read(root, "keel/keel.yaml")).toBe("version: 1\nproject: x\nfoo: bar\n");
  });

  it.each([
    [["init", "extra"], 2, /init takes no arguments/],
    [["init", "--force"], 2, /Unknown option '--force'/],
    [["--root", "does/not/exist", "init"], 3, /^error: folder not found: .*does\/not\/exist\n/],
  ])("rejects %j with exit %i and no stack trace", (args, code, message) => {
    const root = repo();
    const before = snapshot(root);
    const run = keel(root, ...args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(snapshot(root)).toEqual(before);
  });

  it("exits 3 when keel is a file, and writes nothing", () => {
    const root = repo({ keel: "x\n" });
    const before = snapshot(root);
    const run = keel(root, "init", "--json");
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      exitCode: 3,
      error: { message: "keel exists and is not a folder" },
    });
    expect(snapshot(root)).toEqual(before);
  });
});
