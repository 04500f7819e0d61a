// The dependency graph of one scope (a change or a capability's tasks), drawn as SVG: tasks in layers by
// dependency depth, left to right, each layer ordered by its predecessors' places to keep edges short, edges as
// curves from a dependency to the task that waits for it. Each node links to its task's page.
import { useMemo } from "preact/hooks";
import { navigate } from "../router";
import { ErrorBox, Loading } from "../ui";
import { type BoardTask, COLUMN_TITLE, taskHref, useBoard } from "./tasks-data";

const NODE_W = 190;
const NODE_H = 46;
const GAP_X = 70;
const GAP_Y = 16;
const PAD = 12;
/** Past this many tasks a drawing stops being readable; the rest are listed as left out. */
const MAX_NODES = 300;

interface Placed {
  task: BoardTask;
  x: number;
  y: number;
}

export function Graph({ scope }: { scope: string | null }) {
  const board = useBoard();
  const all = board.data?.tasks;
  const scopes = useMemo(() => scopesOf(all ?? []), [all]);
  const chosen =
    scope && scopes.some((s) => s.name === scope)
      ? scope
      : (scopes.find((s) => s.edges > 0) ?? scopes[0])?.name;
  const tasks = useMemo(() => (all ?? []).filter((t) => t.scope === chosen), [all, chosen]);
  if (!board.data) return board.error ? <ErrorBox error={board.error} /> : <Loading />;
  if (!chosen) return <p class="muted">No tasks in this project.</p>;
  return (
    <>
      <div class="row">
        <label for="graph-scope">Scope</label>
        <select
          id="graph-scope"
          value={chosen}
          onChange={(e) =>
            navigate(
              `/tasks?tab=graph&scope=${encodeURIComponent((e.currentTarget as HTMLSelectElement).value)}`,
            )
          }
        >
          {scopes.map((s) => (
            <option key={s.name} value={s.name}>
              {s.name} ({s.tasks} tasks, {s.edges} dependencies)
            </option>
          ))}
        </select>
      </div>
      <Drawing scope={chosen} tasks={tasks} />
    </>
  );
}

function scopesOf(tasks: BoardTask[]): Array<{ name: string; tasks: number; edges: number }> {
  const out = new Map<string, { name: string; tasks: number; edges: number }>();
  for (const t of tasks) {
    const s = out.get(t.scope) ?? { name: t.scope, tasks: 0, edges: 0 };
    s.tasks++;
    s.edges += t.dependsOn.length;
    out.set(t.scope, s);
  }
  return [...out.values()];
}

/** Depth of each task: 0 without a dependency inside the scope, else one more than its deepest dependency. */
function depths(tasks: BoardTask[]): Map<string, number> {
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (key: string): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    if (visiting.has(key)) return 0; // a cycle (reported by validation): its back edge does not deepen it
    visiting.add(key);
    let d = 0;
    for (const dep of byKey.get(key)?.dependsOn ?? []) if (byKey.has(dep)) d = Math.max(d, visit(dep) + 1);
    visiting.delete(key);
    depth.set(key, d);
    return d;
  };
  for (const t of tasks) visit(t.key);
  return depth;
}

/** Layers by depth, each ordered by the mean place of its dependencies in the layers before it. */
function layout(tasks: BoardTask[]): Placed[] {
  const depth = depths(tasks);
  const layers: BoardTask[][] = [];
  for (const t of tasks) {
    const d = depth.get(t.key) ?? 0;
    const layer = layers[d];
    if (layer) layer.push(t);
    else layers[d] = [t];
  }
  const row = new Map<string, number>();
  const placed: Placed[] = [];
  layers.forEach((layer, d) => {
    const mean = (t: BoardTask) => {
      const rows = t.dependsOn.map((k) => row.get(k)).filter((r): r is number => r !== undefined);
      return rows.length === 0 ? Number.POSITIVE_INFINITY : rows.reduce((a, b) => a + b, 0) / rows.length;
    };
    const ordered = d === 0 ? layer : [...layer].sort((a, b) => mean(a) - mean(b));
    ordered.forEach((t, i) => {
      row.set(t.key, i);
      placed.push({ task: t, x: PAD + d * (NODE_W + GAP_X), y: PAD + i * (NODE_H + GAP_Y) });
    });
  });
  return placed;
}

function clip(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

function Drawing({ scope, tasks }: { scope: string; tasks: BoardTask[] }) {
  const shown = tasks.slice(0, MAX_NODES);
  const placed = useMemo(() => layout(tasks.slice(0, MAX_NODES)), [tasks]);
  const at = new Map(placed.map((p) => [p.task.key, p]));
  const edges = placed.flatMap((p) =>
    p.task.dependsOn.flatMap((dep) => {
      const from = at.get(dep);
      return from ? [{ from, to: p }] : [];
    }),
  );
  const width = Math.max(...placed.map((p) => p.x + NODE_W)) + PAD;
  const height = Math.max(...placed.map((p) => p.y + NODE_H)) + PAD;
  return (
    <figure class="graph">
      <figcaption id="graph-caption">
        {scope}: {shown.length} tasks, {edges.length} dependencies, in {new Set(placed.map((p) => p.x)).size}{" "}
        layers by depth (a task is right of what it depends on)
        {tasks.length > shown.length ? `; the first ${MAX_NODES} of ${tasks.length} tasks are drawn` : ""}
      </figcaption>
      <div class="graph-scroll">
        <svg
          width={width}
          height={height}
          viewBox={`0 0 ${width} ${height}`}
          aria-labelledby="graph-caption"
          class="graph-svg"
        >
          <title>Dependency graph of {scope}</title>
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" class="graph-arrow" />
            </marker>
          </defs>
          {edges.map(({ from, to }) => {
            const x1 = from.x + NODE_W;
            const y1 = from.y + NODE_H / 2;
            const x2 = to.x;
            const y2 = to.y + NODE_H / 2;
            const bend = (x2 - x1) / 2;
            return (
              <path
                key={`${from.task.key}>${to.task.key}`}
                class="graph-edge"
                d={`M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`}
                marker-end="url(#arrow)"
              />
            );
          })}
          {placed.map((p) => (
            <a
              key={p.task.key}
              href={taskHref(p.task.key)}
              class={`graph-node graph-${p.task.column}`}
              data-key={p.task.key}
            >
              <rect x={p.x} y={p.y} width={NODE_W} height={NODE_H} rx={6} />
              <text x={p.x + 8} y={p.y + 18} class="graph-id">
                {p.task.id} · {COLUMN_TITLE[p.task.column].toLowerCase()}
              </text>
              <text x={p.x + 8} y={p.y + 36} class="graph-title">
                {clip(p.task.title, 26)}
              </text>
            </a>
          ))}
        </svg>
      </div>
    </figure>
  );
}
