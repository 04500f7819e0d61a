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
import { type Command, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { padCell } from "../table.js";

const USAGE =
  "keel token create --role owner|reviewer|agent|read --name <name> [--expires 90d|never] [--as kind:name] | list [--json] | revoke <name|id>";
const DEFAULT_TOKEN_LIFETIME = "90d";

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

const command: Command = {
  name: "token",
  summary: "bearer tokens for keel serve --auth: create, list, revoke",
  usage: USAGE,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(
      argv,
      {
        role: { type: "string" },
        name: { type: "string" },
        expires: { type: "string" },
        as: { type: "string" },
      },
      USAGE,
    );
    const [sub, ...rest] = positionals;
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const config = loadConfig(project);
    // The project's store: in team mode the shared one, so a token made here authenticates on every server.
    const store = () => coordinationStore(project.root, config);

    if (sub === "create") {
      if (rest.length > 0) throw usageError("token create takes no arguments", `usage: ${USAGE}`);
      if (values.role === undefined || values.name === undefined)
        throw usageError("token create needs --role and --name", `usage: ${USAGE}`);
      const role = parseRole(values.role);
      const expires = values.expires ?? DEFAULT_TOKEN_LIFETIME;
      const ttlMs = expires === "never" ? null : parseDuration(expires);
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
    }
    if (sub === "list") {
      if (rest.length > 0) throw usageError("token list takes no arguments", `usage: ${USAGE}`);
      const tokens = await listTokens(await store());
      if (global.json) printJson(io, { tokens });
      else printList(io, tokens);
      return EXIT.ok;
    }
    if (sub === "revoke") {
      const [ref] = rest;
      if (ref === undefined || rest.length > 1)
        throw usageError("token revoke takes one token name or ID", `usage: ${USAGE}`);
      const by = resolveActor(config, { flag: values.as, cwd: project.root });
      const revoked = await revokeToken(await store(), ref, by);
      if (global.json) printJson(io, revoked);
      else io.out(`revoked ${revoked.id} (${revoked.name}, ${revoked.actor})`);
      return EXIT.ok;
    }
    throw usageError(
      sub === undefined ? "token needs a subcommand" : `unknown subcommand "${sub}"`,
      `usage: ${USAGE}`,
    );
  },
};

export default command;
