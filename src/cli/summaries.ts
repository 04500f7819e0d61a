// What `keel help` lists: each command's summary (the one its module declares, checked by a test) and the
// top-level help text. Data only, with no imports: the CommonJS launcher (cli/bin.ts) answers `keel help` from it
// without starting the CLI proper.

/** Every command by name, in help order; hidden ones are run by other programs, not typed. */
export const SUMMARIES: Record<string, { summary: string; hidden?: boolean }> = {
  init: { summary: "create keel/ in this repository (idempotent; never overwrites a file)" },
  validate: { summary: "check specs and changes; exit 1 on errors (or warnings with --strict)" },
  list: { summary: "list specs, changes or requirements" },
  show: { summary: "show a spec, change or requirement by id" },
  search: { summary: "full-text search over requirements, ranked" },
  status: { summary: "one-screen summary of the project" },
  import: { summary: "write a Keel layout from a Spec Kit, Kiro, Task Master or Beads project" },
  export: { summary: "write the specs in Spec Kit's or OpenSpec's layout" },
  change: {
    summary: "change proposals: new, list, show, diff, status, approve, apply, reject, revert, resolve",
  },
  conflicts: { summary: "open conflicts: overlapping edits refused by apply or found by git merge" },
  "merge-driver": { summary: "git merge driver for spec files (run by git)", hidden: true },
  history: { summary: "every version of a requirement: who, when, why, diff" },
  blame: { summary: "who introduced each requirement of a spec as it reads now" },
  tasks: {
    summary:
      "the task graph and its queue: list, show, ready, next, graph; claim, heartbeat, release, done, block, note",
  },
  context: { summary: "the context pack for one task" },
  trace: { summary: "trace links from code, tests, docs and commits to requirements; ack, scan" },
  analyze: {
    summary:
      "cross-artifact report: coverage gaps, unwired gates, missing files, inconsistent terms, unread headings",
  },
  audit: { summary: "the hash-chained audit log: log, verify, export" },
  verify: { summary: "run gates and record evidence" },
  boundaries: { summary: "changes outside a task's globs: check" },
  check: { summary: "for CI: validate, drift and the latest gate status in one verdict" },
  drift: {
    summary: "where intent and code have come apart: untraced, suspect, dangling, out of bounds, stale",
  },
  coverage: { summary: "per capability: approved requirements implemented, tested, verified" },
  run: { summary: "the work loop: coding agents work the ready tasks in worktrees, gated; status, review" },
  metrics: { summary: "the work loop's track record: first-pass rate, rework, time to done, cost" },
  mcp: { summary: "serve Keel to agents over MCP (stdio)" },
  agents: {
    summary: "set up coding agents: add, remove, list (AGENTS.md block, phase commands, MCP config)",
  },
  daemon: { summary: "a warm process that answers read commands fast: start, run, stop, status" },
  serve: { summary: "serve REST, live events and MCP over HTTP on loopback" },
  token: { summary: "bearer tokens for keel serve --auth: create, list, revoke" },
  store: {
    summary:
      "the state store: status, migrate and copy (team mode), repair (rebuild from keel/audit/), reset",
  },
  completion: { summary: "print the shell completion script: bash, zsh or fish" },
  __complete: {
    summary: "the completion candidates at the cursor (run by the completion scripts)",
    hidden: true,
  },
};

export const TOP_HELP = `keel — the coordination layer for agentic software development

usage: keel <command> [options]

commands:
${Object.entries(SUMMARIES)
  .filter(([, c]) => !c.hidden)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join("\n")}

global options:
  --json            machine-readable output (every command)
  -C, --root <dir>  project folder (default: search upwards from the current folder)
  --root <name>     with keel.yaml roots: keep to that spec root
  -h, --help        help for keel or for a command
  -v, --version     print the version
  --                ends the options: every argument after it is an argument, even one starting with -

exit codes: 0 ok · 1 findings (errors, or warnings under --strict) · 2 usage error · 3 project unreadable
            · 4 conflict (apply refused, conflict recorded) · 5 refused by policy (audited)
            · 6 refused by the task queue (unknown, held, done or blocked task; stale token)
            · 7 refused by backpressure (a task's gates lack passing evidence on this tree)
            · 141 the output's reader closed the pipe early (\`keel … | head\`)
docs: docs/cli.md`;
