// The types of scripts/team-project.mjs, for the TypeScript tests (tests/support/team.ts).
export const FEATURES: number;
/** Writes the project's files into `dir` (not yet a git repository); `config` is more of keel.yaml. */
export function writeTeamProject(dir: string, tasks: number, name?: string, config?: string): void;
