// The review queue: the open changes with their status, author, capabilities, size and overlaps with other open
// changes; `/changes/<id>` is one change (changes-detail.tsx).
import { useResource } from "../live";
import { Badge, ErrorBox, Loading, Origin, Status, timeAgo } from "../ui";
import ChangeDetail from "./changes-detail";
import { splitLabel } from "./changes-roles";
import type { ViewProps } from "./index";

interface ChangesAnswer {
  changes: Array<{
    id: string;
    status: string;
    archived: boolean;
    author: string | null;
    created: string | null;
    capabilities: string[];
    deltas: { added: number; modified: number; removed: number; renamed: number };
  }>;
}
interface StatusAnswer {
  changes: { items: Array<{ id: string; overlaps: number }> };
}

export default function Changes({ rest }: ViewProps) {
  const id = rest[0];
  return id ? <ChangeDetail id={id} /> : <Queue />;
}

function Queue() {
  const changes = useResource<ChangesAnswer>("/api/changes", ["change.*", "audit", "spec.edited"]);
  const status = useResource<StatusAnswer>("/api/status", ["change.*", "audit", "spec.edited"]);
  if (changes.error) return <ErrorBox error={changes.error} />;
  if (!changes.data) return <Loading />;
  const overlaps = new Map(status.data?.changes.items.map((c) => [c.id, c.overlaps]) ?? []);
  const rows = changes.data.changes;
  return (
    <div class="review">
      <h1>Changes</h1>
      <p class="muted">
        {rows.length} open change{rows.length === 1 ? "" : "s"}: proposals to the living specs, waiting for
        review.
      </p>
      {rows.length === 0 ? (
        <p>Nothing awaits review.</p>
      ) : (
        <table>
          <caption class="sr-only">Open changes</caption>
          <thead>
            <tr>
              <th scope="col">Change</th>
              <th scope="col">Status</th>
              <th scope="col">Author</th>
              <th scope="col">Capabilities</th>
              <th scope="col">Deltas</th>
              <th scope="col">Overlaps</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => {
              const who = splitLabel(c.author);
              const n = overlaps.get(c.id) ?? 0;
              return (
                <tr key={c.id}>
                  <th scope="row">
                    <a href={`/changes/${encodeURIComponent(c.id)}`}>{c.id}</a>
                    {c.created ? <div class="muted">{timeAgo(c.created)}</div> : null}
                  </th>
                  <td>
                    <Status value={c.status} />
                  </td>
                  <td>{who.origin ? <Origin origin={who.origin} by={who.name} /> : (who.name ?? "—")}</td>
                  <td>{c.capabilities.join(", ")}</td>
                  <td>
                    <Deltas d={c.deltas} />
                  </td>
                  <td>
                    {n > 0 ? <Badge tone="warn">{n} overlap(s)</Badge> : <span class="muted">none</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Deltas({ d }: { d: ChangesAnswer["changes"][number]["deltas"] }) {
  const parts = [
    [d.added, "added"],
    [d.modified, "modified"],
    [d.removed, "removed"],
    [d.renamed, "renamed"],
  ] as const;
  return (
    <span>
      {parts
        .filter(([n]) => n > 0)
        .map(([n, what]) => `${n} ${what}`)
        .join(", ") || "none"}
    </span>
  );
}
