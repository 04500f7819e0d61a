// Tabnine CLI reads TABNINE.md (which imports AGENTS.md with `@AGENTS.md`) and custom commands in
// .tabnine/agent/commands/*.toml (`description`, `prompt`, `{{args}}`), in the Gemini CLI format it shares.

import type { AgentAdapter } from "../adapter.js";

export const tabnine: AgentAdapter = {
  name: "tabnine",
  title: "Tabnine CLI",
  docs: [
    "https://docs.tabnine.com/main/getting-started/tabnine-cli/features/commands",
    "https://docs.tabnine.com/main/getting-started/tabnine-cli/features/cli-commands",
  ],
  agentsMd: true,
  bridge: "TABNINE.md",
  commands: {
    dir: ".tabnine/agent/commands",
    file: "keel-{phase}.toml",
    format: "toml",
    placeholder: "{{args}}",
  },
};
