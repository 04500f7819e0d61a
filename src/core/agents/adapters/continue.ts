// Continue reads prompt files in .continue/prompts/*.prompt (frontmatter `name`, `description`,
// `invokable: true` makes a slash command; `{{{ input }}}` is what was typed) and MCP servers from
// .continue/mcpServers/, where JSON files in the `mcpServers` shape other tools use are accepted.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const continueDev: AgentAdapter = {
  name: "continue",
  title: "Continue",
  docs: [
    "https://docs.continue.dev/customize/deep-dives/prompts",
    "https://docs.continue.dev/customize/deep-dives/mcp",
  ],
  agentsMd: true,
  commands: {
    dir: ".continue/prompts",
    file: "keel-{phase}.prompt",
    format: "markdown",
    placeholder: "{{{ input }}}",
    frontmatter: { name: "keel-{phase}", invokable: true },
  },
  mcp: {
    path: ".continue/mcpServers/keel.json",
    format: "json",
    key: ["mcpServers", "keel"],
    value: KEEL_STDIO,
  },
};
