// Conflicts: the overlapping edits an apply (or a git merge) parked for a person. `/conflicts` lists the open
// ones; `/conflicts/<id>` shows one (conflicts-detail.tsx).
import { useResource } from "../live";
import { ErrorBox, Loading, timeAgo } from "../ui";
import ConflictDetail from "./conflicts-detail";
import type { ViewProps } from "./index";

export interface Conflict {
  id: string;
  change: string;
  capability: string;
  requirement: string;
  createdAt: string;
  status: string;
  base: string;
  ours: string;
  theirs: string;
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
}

export default function Conflicts({ rest }: ViewProps) {
  const id = rest[0];
  return id ? <ConflictDetail id={id} /> : <List />;
}

function List() {
  const r = useResource<{ conflicts: Conflict[] }>("/api/conflicts", ["change.*", "audit", "spec.edited"]);
  if (r.error) return <ErrorBox error={r.error} />;
  if (!r.data) return <Loading />;
  const rows = r.data.conflicts;
  return (
    <div class="review">
      <h1>Conflicts</h1>
      <p class="muted">
        Requirements two writers changed at once. Nothing was overwritten: each waits for a person to pick a
        side or merge them.
      </p>
      {rows.length === 0 ? (
        <p>No open conflicts.</p>
      ) : (
        <table>
          <caption class="sr-only">Open conflicts</caption>
          <thead>
            <tr>
              <th scope="col">Requirement</th>
              <th scope="col">Capability</th>
              <th scope="col">From</th>
              <th scope="col">Recorded</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id}>
                <th scope="row">
                  <a href={`/conflicts/${encodeURIComponent(c.id)}`}>
                    {c.requirement} <span class="muted">({c.id})</span>
                  </a>
                </th>
                <td>{c.capability}</td>
                <td>
                  {c.change === "git-merge" ? (
                    "a git merge"
                  ) : (
                    <a href={`/changes/${encodeURIComponent(c.change)}`}>change {c.change}</a>
                  )}
                </td>
                <td>
                  <time dateTime={c.createdAt}>{timeAgo(c.createdAt)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
