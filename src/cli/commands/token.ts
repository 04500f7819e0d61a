// `keel token create|list|revoke`: bearer tokens for `keel serve --auth` (core/auth/tokens.ts). The token is
// printed once, on stdout alone, so `TOKEN=$(keel token create …)` captures it; everything else goes to stderr.
import {
  createToken,
  listTokens,
  parseRole,
  revokeToken,
  type TokenInfo,
  tokenState,
} from "../../core/auth/tokens.js";
import { coordinationStore } from "../../store/select.js";
import { parseDuration } from "../../store/sqlite/claims.js";
import { resolveActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, type Flags, parseFlags } from "../command.js";
import { ACTOR_FLAGS } from "../flags.js";
import { type Io, paint, printJson } from "../output.js";
import { type Subcommand, subcommandNamed, synopses } from "../subcommands.js";
import { padCell } from "../table.js";

const DEFAULT_TOKEN_LIFETIME = "90d";

const CREATE_USAGE =
  "keel token create --role owner|reviewer|agent|read --name <name> [--expires <duration>|never] [--as <kind:name>] [--json]";

const CREATE_FLAGS = {
  role: {
    type: "string",
    value: "owner|reviewer|agent|read",
    help: "what the token may do (read: read only)",
    complete: ["owner", "reviewer", "agent", "read"],
  },
  name: {
    type: "string",
    value: "name",
    help: "who the token acts as: kind:name, or a bare name (an agent for --role agent, else a human)",
  },
  expires: {
    type: "string",
    value: "duration",
    help: `how long the token lives (30d, 12h), or never; default ${DEFAULT_TOKEN_LIFETIME}`,
  },
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

const LIST_USAGE = "keel token list [--json]";

const REVOKE_USAGE = "keel token revoke <name|id> [--as <kind:name>] [--json]";

const REVOKE_FLAGS = { as: ACTOR_FLAGS.as } as const satisfies Flags;

function printList(io: Io, tokens: TokenInfo[]): void {
  const now = new Date();
  if (tokens.length === 0) {
    io.out("no tokens; create one with `keel token create --role agent --name <name>`");
    return;
  }
  for (const t of tokens) {
    const s = tokenState(t, now);
    io.out(
      `${t.id}  ${paint(io, s === "live" ? "green" : "dim", s.padEnd(7))} ${padCell(t.name, 16)} ${padCell(t.actor, 22)} ${t.role.padEnd(9)} expires ${t.expiresAt ?? "never"}`,
    );
  }
}

/** The project's store: in team mode the shared one, so a token made here authenticates on every server. */
function tokenStore(global: CommandContext["global"]) {
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const config = loadConfig(project);
  return { project, config, store: () => coordinationStore(project.root, config) };
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  create: {
    summary: "create a token and print it, once, on stdout",
    usage: CREATE_USAGE,
    flags: CREATE_FLAGS,
    async run({ io, global }, argv) {
      const { values, positionals } = parseFlags(argv, CREATE_FLAGS, CREATE_USAGE);
      if (positionals.length > 0)
        throw usageError("token create takes no arguments", `usage: ${CREATE_USAGE}`);
      if (values.role === undefined || values.name === undefined)
        throw usageError("token create needs --role and --name", `usage: ${CREATE_USAGE}`);
      const role = parseRole(values.role);
      const expires = values.expires ?? DEFAULT_TOKEN_LIFETIME;
      const ttlMs = expires === "never" ? null : parseDuration(expires);
      const { project, config, store } = tokenStore(global);
      const createdBy = resolveActor(config, { flag: values.as, cwd: project.root });
      const created = await createToken(await store(), { name: values.name, role, ttlMs, createdBy });
      if (global.json) printJson(io, created);
      else {
        io.out(created.token);
        io.err(
          `token ${created.id} for ${created.actor} (${created.role}), expires ${created.expiresAt ?? "never"}.\nIt is shown only now: Keel keeps its hash. Send it as \`Authorization: Bearer <token>\`.`,
        );
      }
      return EXIT.ok;
    },
  },
  list: {
    summary: "every token: its state, name, actor, role and expiry (never the token itself)",
    usage: LIST_USAGE,
    flags: {},
    async run({ io, global }, argv) {
      const { positionals } = parseFlags(argv, {}, LIST_USAGE);
      if (positionals.length > 0) throw usageError("token list takes no arguments", `usage: ${LIST_USAGE}`);
      const tokens = await listTokens(await tokenStore(global).store());
      if (global.json) printJson(io, { tokens });
      else printList(io, tokens);
      return EXIT.ok;
    },
  },
  revoke: {
    summary: "revoke a token by its name or ID",
    usage: REVOKE_USAGE,
    flags: REVOKE_FLAGS,
    async run({ io, global }, argv) {
      const { values, positionals } = parseFlags(argv, REVOKE_FLAGS, REVOKE_USAGE);
      const [ref] = positionals;
      if (ref === undefined || positionals.length > 1)
        throw usageError("token revoke takes one token name or ID", `usage: ${REVOKE_USAGE}`);
      const { project, config, store } = tokenStore(global);
      const by = resolveActor(config, { flag: values.as, cwd: project.root });
      const revoked = await revokeToken(await store(), ref, by);
      if (global.json) printJson(io, revoked);
      else io.out(`revoked ${revoked.id} (${revoked.name}, ${revoked.actor})`);
      return EXIT.ok;
    },
  },
};

const command: Command = {
  name: "token",
  summary: "bearer tokens for keel serve --auth: create, list, revoke",
  usage: "keel token <subcommand> [options]",
  flags: {},
  subcommands: SUBCOMMANDS,
  run(ctx): Promise<ExitCode> | ExitCode {
    const [name, ...rest] = ctx.argv;
    const sub = subcommandNamed(SUBCOMMANDS, name);
    if (sub === undefined)
      throw usageError(
        name === undefined ? "token needs a subcommand" : `unknown subcommand "${name}"`,
        synopses(SUBCOMMANDS),
      );
    return sub.run(ctx, rest);
  },
};

export default command;
