// The tasks view: `/tasks` is the board (or, by `?tab=`, the ready queue or the dependency graph of one scope);
// `/tasks/<scope>/<id>` is one task's page. Everything refetches on task events, so an agent's claim moves its
// card without a reload.
// @req WEB-9, WEB-10
import { useResource } from "../live";
import { ErrorBox, Loading } from "../ui";
import type { ViewProps } from "./index";
import { Board } from "./tasks-board";
import { TASK_EVENTS, taskHref } from "./tasks-data";
import { Graph } from "./tasks-graph";
import { TaskPage } from "./tasks-page";

const TABS = [
  { tab: "board", title: "Board" },
  { tab: "ready", title: "Ready queue" },
  { tab: "graph", title: "Dependency graph" },
] as const;

export default function Tasks({ rest, query }: ViewProps) {
  if (rest.length > 0) return <TaskPage key={rest.join("/")} taskKey={rest.join("/")} />;
  const tab = TABS.find((t) => t.tab === query.get("tab"))?.tab ?? "board";
  return (
    <div class="tasks">
      <h1>Tasks</h1>
      <nav aria-label="Task views" class="tabs">
        <ul>
          {TABS.map((t) => (
            <li key={t.tab}>
              <a
                href={t.tab === "board" ? "/tasks" : `/tasks?tab=${t.tab}`}
                aria-current={tab === t.tab ? "page" : undefined}
              >
                {t.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tab === "board" ? <Board /> : tab === "ready" ? <ReadyQueue /> : <Graph scope={query.get("scope")} />}
    </div>
  );
}

interface ReadyAnswer {
  ready: Array<{
    key: string;
    title: string;
    priority: number | null;
    phase: string | null;
    covers: string[];
    parallel: boolean;
  }>;
}

/** GET /api/tasks/ready: what `keel tasks ready` lists, the tasks an agent may claim now. */
function ReadyQueue() {
  const ready = useResource<ReadyAnswer>("/api/tasks/ready", TASK_EVENTS);
  if (!ready.data) return ready.error ? <ErrorBox error={ready.error} /> : <Loading />;
  const list = ready.data.ready;
  return (
    <section class="card" aria-labelledby="ready-heading">
      <h2 id="ready-heading">
        Ready to claim <span class="col-count">{list.length}</span>
      </h2>
      {list.length === 0 ? (
        <p class="muted">Nothing is ready: every open task waits for a dependency or is claimed.</p>
      ) : (
        <table class="ready-table">
          <caption class="sr-only">Tasks ready to claim now</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Title</th>
              <th scope="col">Priority</th>
              <th scope="col">Phase</th>
              <th scope="col">Covers</th>
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.key}>
                <th scope="row">
                  <a href={taskHref(t.key)}>{t.key}</a>
                </th>
                <td>
                  {t.title}
                  {t.parallel ? <span class="muted"> [P]</span> : null}
                </td>
                <td>{t.priority === null ? "" : `P${t.priority}`}</td>
                <td>{t.phase ?? ""}</td>
                <td>{t.covers.join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
