// The web app's shell: sign-in state, the navigation bar, the live indicator and the current view. Everything
// it shows comes from the REST API and the event stream of the server that served it (src/server/web.ts).
import "./app.css";
import { type FunctionComponent, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { currentSession, loadSession, type Session, signOut } from "./api";
import { useLiveStatus } from "./live";
import { followLinks, navigate, useLocation } from "./router";
import { ErrorBox, Loading } from "./ui";
import { VIEWS, type ViewProps, viewOf } from "./views/index";

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const loc = useLocation();
  useEffect(() => {
    loadSession().then(setSession, setError);
  }, []);
  useEffect(() => {
    addEventListener("keel:session", () => setSession({ ...currentSession() }));
  }, []);
  if (error) return <ErrorBox error={error} />;
  if (!session) return <Loading />;
  const signedOut = session.mode === "signed-out";
  if (signedOut && !loc.path.startsWith("/signin")) {
    navigate(`/signin?next=${encodeURIComponent(loc.path + location.search)}`, true);
    return <Loading />;
  }
  const match = viewOf(loc.path);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header session={session} path={loc.path} />
      <main id="main" tabIndex={-1}>
        {match ? (
          <View key={match.view.segment} load={match.view.load} rest={match.rest} query={loc.query} />
        ) : (
          <NotFound />
        )}
      </main>
    </>
  );
}

function Header({ session, path }: { session: Session; path: string }) {
  const live = useLiveStatus();
  const here = viewOf(path)?.view.segment;
  return (
    <header class="top">
      <a class="brand" href="/">
        Keel
      </a>
      <nav aria-label="Views">
        <ul>
          {VIEWS.filter((v) => v.nav).map((v) => (
            <li key={v.segment}>
              <a href={`/${v.segment}`} aria-current={here === v.segment ? "page" : undefined}>
                {v.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <QuickSearch />
      <span
        class={`live ${live ? "live-up" : "live-down"}`}
        role="status"
        title={live ? "live updates on" : "live updates reconnecting"}
      >
        {live ? "● live" : "○ offline"}
      </span>
      {session.principal ? (
        <span class="who">
          {session.principal.kind === "agent" ? "agent " : ""}
          {session.principal.name}
          {session.principal.role ? ` (${session.principal.role})` : ""}
        </span>
      ) : null}
      {session.mode === "signed-in" ? (
        <button
          type="button"
          class="link"
          onClick={() =>
            signOut().then(() => {
              dispatchEvent(new Event("keel:session"));
              navigate("/signin");
            })
          }
        >
          Sign out
        </button>
      ) : null}
    </header>
  );
}

/** Search from every view: the header's box opens the search view on its query. */
function QuickSearch() {
  const [text, setText] = useState("");
  return (
    <form
      class="quick-search"
      aria-label="Search"
      onSubmit={(e) => {
        e.preventDefault();
        const q = text.trim();
        navigate(q ? `/search?q=${encodeURIComponent(q)}` : "/search");
        setText("");
      }}
    >
      <input
        type="search"
        aria-label="Search requirements"
        placeholder="Search…"
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
      />
    </form>
  );
}

function View({
  load,
  rest,
  query,
}: { load: () => Promise<{ default: FunctionComponent<ViewProps> }> } & ViewProps) {
  const [Component, setComponent] = useState<FunctionComponent<ViewProps> | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    load().then((m) => setComponent(() => m.default), setError);
  }, [load]);
  if (error) return <ErrorBox error={error} />;
  if (!Component) return <Loading />;
  return <Component rest={rest} query={query} />;
}

function NotFound() {
  return (
    <section class="card">
      <h1>Not found</h1>
      <p>
        No view at this address. <a href="/">Go to the overview</a>.
      </p>
    </section>
  );
}

/** `g` then a view's letter goes there; `/` goes to search. Keys typed into a field are left alone. */
function keyboardShortcuts(): void {
  let pending = false;
  addEventListener("keydown", (e) => {
    const t = e.target as HTMLElement;
    if (e.ctrlKey || e.metaKey || e.altKey || t.closest("input, textarea, select, [contenteditable]")) return;
    if (e.key === "/" && !pending) {
      e.preventDefault();
      navigate("/search");
      return;
    }
    if (pending) {
      pending = false;
      const v = VIEWS.find((x) => x.key === e.key);
      if (v) navigate(`/${v.segment}`);
      return;
    }
    if (e.key === "g") pending = true;
  });
}

const root = document.getElementById("app") as HTMLElement;
followLinks(root);
keyboardShortcuts();
render(<App />, root);
