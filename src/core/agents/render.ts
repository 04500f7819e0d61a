// The shared renderer: an adapter's declaration becomes the Targets Keel writes, one command file per phase
// in the tool's format, with the tool's argument placeholder in the phase's instructions.
// @req AGT-3, AGT-4, AGT-5

import type { AgentAdapter, CommandFiles, Target } from "./adapter.js";
import { FILE_MARKER, PHASES, type Phase, phaseText } from "./templates.js";

const AGENTS_MD: Target = { kind: "block", path: "AGENTS.md", block: "agents", shared: true };

/** Every target of `adapter`, in the order they are written and reported. */
export function targetsOf(adapter: AgentAdapter): Target[] {
  const out: Target[] = [];
  if (adapter.agentsMd) out.push(AGENTS_MD);
  if (adapter.bridge) out.push({ kind: "block", path: adapter.bridge, block: "bridge", shared: false });
  const commands = adapter.commands;
  if (commands) {
    for (const phase of PHASES) {
      out.push({
        kind: "file",
        path: `${commands.dir}/${commands.file.replace("{phase}", phase)}`,
        content: commandFile(adapter.name, commands, phase),
        format: commands.format,
        phase,
      });
    }
  }
  if (adapter.mcp) out.push({ kind: "mcp", ...adapter.mcp });
  return out;
}

/** The content of the command file for `phase` in the adapter's format. */
export function commandFile(agent: string, commands: CommandFiles, phase: Phase): string {
  const { description, text } = phaseText(phase, commands.placeholder);
  const marker = `${FILE_MARKER} \`keel agents remove ${agent}\` deletes this file only while it is unedited.`;
  switch (commands.format) {
    case "toml":
      return `# ${marker}\ndescription = ${JSON.stringify(description)}\nprompt = """\n${tomlMultiline(text)}\n"""\n`;
    case "plain-markdown":
      return `# Keel: ${phase}\n\n${description}\n\n<!-- ${marker} -->\n\n${text}\n`;
    case "markdown": {
      const extra = Object.entries(commands.frontmatter ?? {}).map(
        ([k, v]) => `${k}: ${typeof v === "boolean" ? v : yamlScalar(v.replace("{phase}", phase))}\n`,
      );
      return `---\ndescription: ${JSON.stringify(description)}\n${extra.join("")}---\n<!-- ${marker} -->\n\n${text}\n`;
    }
  }
}

/** A YAML scalar: plain when it is a word that YAML reads as the same string, else double-quoted. */
function yamlScalar(v: string): string {
  return /^[A-Za-z][\w-]*$/.test(v) && !/^(true|false|null|yes|no|on|off)$/i.test(v) ? v : JSON.stringify(v);
}

/** Text safe inside a TOML multi-line basic string (`"""…"""`): backslashes and `"""` escaped. */
function tomlMultiline(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"""/g, '""\\"');
}
