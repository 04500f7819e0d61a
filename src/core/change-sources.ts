// The files of one change folder, as the change parser takes them. Shared by validation, the project
// loader and the query index, which differ only in how they read a file.
import type { ChangeSources, SourceFile } from "../format/change.js";
import type { Discovery, SourceEntry } from "../workspace/discover.js";

export function changeSources(
  ref: Discovery["changes"][number],
  files: readonly SourceEntry[],
  read: (entry: SourceEntry) => SourceFile | null,
): ChangeSources {
  const pick = (role: SourceEntry["role"]) => {
    const entry = files.find((f) => f.role === role);
    return entry ? read(entry) : null;
  };
  return {
    id: ref.id,
    dir: ref.dir,
    archived: ref.archived,
    layout: ref.layout,
    proposal: pick("proposal"),
    tasks: pick("tasks"),
    meta: pick("change-meta"),
    deltas: files
      .filter((f) => f.role === "delta")
      .flatMap((f) => {
        const src = read(f);
        return src ? [{ ...src, capability: f.capability as string }] : [];
      }),
  };
}
