// The views, by the first segment of their URL. Each loads on demand: the first screen ships only the shell and
// the view it shows. A view gets the rest of the path (task keys and capability paths hold slashes) and the query.
import type { FunctionComponent } from "preact";

export interface ViewProps {
  rest: string[];
  query: URLSearchParams;
}

export interface ViewEntry {
  segment: string;
  title: string;
  /** Shown in the navigation bar (sign-in is not). */
  nav: boolean;
  /** The key that focuses the view from anywhere: g then this letter. */
  key?: string;
  load: () => Promise<{ default: FunctionComponent<ViewProps> }>;
}

export const VIEWS: ViewEntry[] = [
  { segment: "", title: "Overview", nav: true, key: "o", load: () => import("./overview") },
  { segment: "specs", title: "Specs", nav: true, key: "s", load: () => import("./specs") },
  { segment: "changes", title: "Changes", nav: true, key: "c", load: () => import("./changes") },
  { segment: "conflicts", title: "Conflicts", nav: true, key: "x", load: () => import("./conflicts") },
  { segment: "tasks", title: "Tasks", nav: true, key: "t", load: () => import("./tasks") },
  { segment: "trace", title: "Trace", nav: true, key: "r", load: () => import("./trace") },
  { segment: "runs", title: "Runs", nav: true, key: "u", load: () => import("./runs") },
  { segment: "audit", title: "Audit", nav: true, key: "a", load: () => import("./audit") },
  { segment: "metrics", title: "Metrics", nav: true, key: "m", load: () => import("./metrics") },
  { segment: "search", title: "Search", nav: true, key: "/", load: () => import("./search") },
  { segment: "signin", title: "Sign in", nav: false, load: () => import("./signin") },
];

export function viewOf(path: string): { view: ViewEntry; rest: string[] } | null {
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map((p) => decodeURIComponent(p));
  const segment = parts[0] ?? "";
  const view = VIEWS.find((v) => v.segment === segment);
  return view ? { view, rest: parts.slice(1) } : null;
}
