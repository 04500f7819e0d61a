// The board: one column per state, each a virtual list. Cards have one fixed height and are placed absolutely
// (through CSSOM, which the Content-Security-Policy allows), and only those in view plus a small margin are
// rendered, so a column of 10,000 tasks costs a few dozen elements and scrolls smoothly.
// @req WEB-10, WEB-9
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ErrorBox, Loading } from "../ui";
import {
  type BoardAnswer,
  type BoardTask,
  COLUMN_TITLE,
  type Column,
  Countdown,
  skewOf,
  taskHref,
  useLiveBoard,
} from "./tasks-data";

/** Each card's slot in a column, in pixels (the card itself is a little shorter: the gap). */
const ROW = 96;
/** Cards rendered beyond each edge of the view, so a fast scroll shows no blank. */
const MARGIN = 4;
/** A lease that ended is seen by a refetch shortly after (no event is sent when a lease merely runs out). */
const EXPIRY_SLACK_MS = 250;

export function Board() {
  const board = useLiveBoard();
  const data = board.data;
  const skew = useMemo(() => (data ? skewOf(data.now) : 0), [data]);
  useReloadAtExpiry(data, skew, board.reload);
  const byColumn = useMemo(() => group(data?.tasks ?? []), [data]);
  if (!data) return board.error ? <ErrorBox error={board.error} /> : <Loading />;
  const columns = data.columns.filter((c) => c.name !== "deferred" || c.count > 0);
  return (
    <>
      <ErrorBox error={board.error} />
      <div class="board">
        {columns.map((c) => (
          <VirtualColumn key={c.name} column={c.name} tasks={byColumn.get(c.name) ?? []} skew={skew} />
        ))}
      </div>
    </>
  );
}

function group(tasks: BoardTask[]): Map<Column, BoardTask[]> {
  const out = new Map<Column, BoardTask[]>();
  for (const t of tasks) {
    const list = out.get(t.column);
    if (list) list.push(t);
    else out.set(t.column, [t]);
  }
  return out;
}

/** Fetches the board again just after the earliest live lease ends, so its card leaves "claimed". */
function useReloadAtExpiry(data: BoardAnswer | null, skew: number, reload: () => void): void {
  useEffect(() => {
    if (!data) return;
    const ends = data.tasks
      .filter((t) => t.claim?.live && t.claim.leaseUntil)
      .map((t) => Date.parse(t.claim?.leaseUntil as string));
    if (ends.length === 0) return;
    const wait = Math.min(...ends) - (Date.now() + skew) + EXPIRY_SLACK_MS;
    const timer = setTimeout(reload, Math.min(Math.max(wait, 0), 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [data, skew]);
}

function VirtualColumn({ column, tasks, skew }: { column: Column; tasks: BoardTask[]; skew: number }) {
  const ref = useRef<HTMLElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight);
    measure();
    const watch = new ResizeObserver(measure);
    watch.observe(el);
    return () => watch.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(top / ROW) - MARGIN);
  const last = Math.min(tasks.length, Math.ceil((top + height) / ROW) + MARGIN);
  const title = COLUMN_TITLE[column];
  const headingId = `col-${column}`;
  return (
    <section class={`board-col board-col-${column}`} aria-labelledby={headingId} data-column={column}>
      <h2 id={headingId}>
        {title} <span class="col-count">{tasks.length.toLocaleString("en")}</span>
      </h2>
      <section
        class="col-scroll"
        ref={ref}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
        tabIndex={0}
        aria-label={`${title} tasks, ${tasks.length}`}
        onScroll={(e) => setTop((e.currentTarget as HTMLElement).scrollTop)}
      >
        {tasks.length === 0 ? <p class="muted col-empty">none</p> : null}
        <ul class="col-cards" style={{ height: `${tasks.length * ROW}px` }}>
          {tasks.slice(first, last).map((t, i) => (
            <Card key={t.key} task={t} index={first + i} size={tasks.length} skew={skew} />
          ))}
        </ul>
      </section>
    </section>
  );
}

function Card({ task, index, size, skew }: { task: BoardTask; index: number; size: number; skew: number }) {
  const live = task.claim?.live ? task.claim : null;
  return (
    <li
      class="task-card"
      data-key={task.key}
      style={{ top: `${index * ROW}px` }}
      aria-setsize={size}
      aria-posinset={index + 1}
    >
      <a class="card-key" href={taskHref(task.key)}>
        {task.key}
      </a>
      {task.priority !== null ? <span class="card-priority">P{task.priority}</span> : null}
      <p class="card-title" title={task.title}>
        {task.title}
      </p>
      {live ? (
        <p class="card-claim">
          <span class="card-holder">{live.holder ?? "unknown"}</span>{" "}
          {live.leaseUntil ? <Countdown until={live.leaseUntil} skew={skew} /> : null}
        </p>
      ) : null}
    </li>
  );
}
