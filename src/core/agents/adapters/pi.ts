// Pi reads AGENTS.md and prompt templates in .pi/prompts/*.md (frontmatter `description`; `$@` is every
// argument). Pi has no MCP support of its own, so Keel writes none.

import type { AgentAdapter } from "../adapter.js";

export const pi: AgentAdapter = {
  name: "pi",
  title: "Pi",
  docs: ["https://github.com/badlogic/pi-mono/blob/main/packages/coding-agent/README.md#prompt-templates"],
  agentsMd: true,
  commands: { dir: ".pi/prompts", file: "keel-{phase}.md", format: "markdown", placeholder: "$@" },
};
