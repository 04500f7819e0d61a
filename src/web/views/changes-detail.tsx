// One change under review: who proposed it and why, each requirement it touches as a word diff with the state
// of the base it was written against, its overlaps with other open changes, the conflicts it parked, the
// reviewers' comments, and approve / reject / apply for the sessions whose role may use them.
// @req WEB-7, WEB-12
import { useState } from "preact/hooks";
import { ApiError, currentSession, post } from "../api";
import { useResource } from "../live";
import { Markdown, WordDiff } from "../rich";
import { Badge, ErrorBox, Fingerprint, Loading, Origin, Section, Status, timeAgo } from "../ui";
import { mayApply, mayApprove, mayComment, mayReject, rawQuery, splitLabel } from "./changes-roles";

interface Target {
  capability: string;
  op: string;
  requirement: string;
  base: { source: string; fingerprint: string } | null;
  livingFingerprint: string | null;
  moved: boolean | null;
}
interface ChangeAnswer {
  id: string;
  status: string;
  archived: boolean;
  author: string | null;
  created: string | null;
  targets: Target[];
  overlaps: Array<{ capability: string; requirement: string; changes: string[] }>;
  problems: Array<{ file: string; message: string }>;
  proposal: { why: string | null; whatChanges: string | null };
}
interface DiffAnswer {
  requirements: Array<{
    capability: string;
    op: string;
    requirement: string;
    title: string;
    to?: string;
    before: string | null;
    after: string | null;
    moved: boolean | null;
    problem?: string;
  }>;
}
interface CommentsAnswer {
  comments: Array<{ seq: number; at: string; by: string; kind: string; text: string }>;
}
interface ConflictsAnswer {
  conflicts: Array<{ id: string; requirement: string; capability: string }>;
}
interface RequirementAnswer {
  item: { text: string; fingerprint: string };
}

const LIVE = ["change.*", "audit", "spec.edited"];

export default function ChangeDetail({ id }: { id: string }) {
  const session = currentSession();
  const path = `/api/changes/${encodeURIComponent(id)}`;
  const change = useResource<ChangeAnswer>(`${path}${rawQuery(session)}`, LIVE);
  const diff = useResource<DiffAnswer>(`${path}/diff`, LIVE);
  if (change.error) return <ErrorBox error={change.error} />;
  if (!change.data) return <Loading />;
  const c = change.data;
  const who = splitLabel(c.author);
  const agent = who.origin === "agent";
  return (
    <div class="review">
      <p>
        <a href="/changes">← All changes</a>
      </p>
      <h1>
        Change <code>{c.id}</code>
      </h1>
      <p class="row">
        <Status value={c.archived ? "applied" : c.status} />
        {who.origin ? <Origin origin={who.origin} by={who.name} /> : null}
        {c.created ? <span class="muted">proposed {timeAgo(c.created)}</span> : null}
        {c.overlaps.length > 0 ? <Badge tone="warn">{c.overlaps.length} overlap(s)</Badge> : null}
      </p>
      <Section title="Rationale" id="change-why">
        {c.proposal.why ? (
          <Markdown text={c.proposal.why} agent={agent} />
        ) : (
          <p class="muted">No rationale given.</p>
        )}
        {c.proposal.whatChanges ? (
          <>
            <h3>What changes</h3>
            <Markdown text={c.proposal.whatChanges} agent={agent} />
          </>
        ) : null}
      </Section>
      <ChangeConflicts id={c.id} />
      <Section title="Requirements" id="change-reqs">
        {c.problems.map((p) => (
          <p key={`${p.file}:${p.message}`} class="error">
            {p.file}: {p.message}
          </p>
        ))}
        <ErrorBox error={diff.error} />
        {diff.data ? (
          diff.data.requirements.map((r) => (
            <Delta
              key={`${r.capability}/${r.op}/${r.requirement}`}
              diff={r}
              target={c.targets.find((t) => t.capability === r.capability && t.requirement === r.requirement)}
              overlaps={
                c.overlaps.find((o) => o.capability === r.capability && o.requirement === r.requirement)
                  ?.changes ?? []
              }
            />
          ))
        ) : (
          <Loading />
        )}
      </Section>
      <Comments id={c.id} />
      <Review change={c} onDone={change.reload} />
    </div>
  );
}

function Delta({
  diff: r,
  target,
  overlaps,
}: {
  diff: DiffAnswer["requirements"][number];
  target: Target | undefined;
  overlaps: string[];
}) {
  return (
    <article class="delta" aria-labelledby={`delta-${r.capability}-${r.requirement}`}>
      <h3 id={`delta-${r.capability}-${r.requirement}`}>
        <Badge tone={r.op === "REMOVED" ? "bad" : r.op === "ADDED" ? "good" : "info"}>{r.op}</Badge>{" "}
        {r.requirement} · {r.title}
        {r.to ? ` → ${r.to}` : ""} <span class="muted">({r.capability})</span>
      </h3>
      <p class="row">
        <BaseState target={target} problem={r.problem} />
        {overlaps.map((o) => (
          <Badge key={o} tone="warn">
            also changed by <a href={`/changes/${encodeURIComponent(o)}`}>{o}</a>
          </Badge>
        ))}
      </p>
      <div class="review-diff">
        <WordDiff before={r.before ?? ""} after={r.after ?? ""} />
      </div>
      {r.moved ? <LivingNow id={r.requirement} /> : null}
    </article>
  );
}

/** Does the base the change was written against still match the living requirement? */
function BaseState({ target, problem }: { target: Target | undefined; problem?: string }) {
  if (problem) return <Badge tone="bad">{problem}</Badge>;
  if (!target || target.op === "ADDED") return <Badge tone="muted">new requirement</Badge>;
  if (!target.base) return <Badge tone="muted">no base recorded</Badge>;
  return (
    <>
      {target.moved ? (
        <Badge tone="warn" title="the living requirement changed after this change was written">
          living requirement changed since the base
        </Badge>
      ) : (
        <Badge tone="good">base matches the living requirement</Badge>
      )}
      <span class="muted">
        base <Fingerprint value={target.base.fingerprint} /> · living{" "}
        <Fingerprint value={target.livingFingerprint} />
      </span>
    </>
  );
}

/** The living requirement's text, when it moved since the base the diff is against. */
function LivingNow({ id }: { id: string }) {
  const r = useResource<RequirementAnswer>(
    `/api/requirements/${encodeURIComponent(id)}${rawQuery(currentSession())}`,
    ["spec.edited"],
  );
  return (
    <div class="living-now">
      <h4>The living requirement now</h4>
      {r.data ? <Markdown text={r.data.item.text} /> : <ErrorBox error={r.error} />}
    </div>
  );
}

/** The conflicts an apply of this change parked, each linked to where a person resolves it. */
function ChangeConflicts({ id }: { id: string }) {
  const r = useResource<ConflictsAnswer>(`/api/conflicts?change=${encodeURIComponent(id)}`, [
    "change.*",
    "audit",
  ]);
  const open = r.data?.conflicts ?? [];
  if (open.length === 0) return null;
  return (
    <Section title="Conflicts" id="change-conflicts">
      <p>Applying this change found requirements edited on both sides. Nothing was written; resolve each:</p>
      <ul class="plain">
        {open.map((c) => (
          <li key={c.id}>
            <a href={`/conflicts/${encodeURIComponent(c.id)}`}>
              Resolve {c.requirement} ({c.capability})
            </a>
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** What an action answered: a note, or the refusal. */
type Outcome = { ok: string } | { error: Error } | null;

function useAction(onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const run = (what: () => Promise<string>) => {
    setBusy(true);
    setOutcome(null);
    what()
      .then(
        (ok) => setOutcome({ ok }),
        (error: Error) => setOutcome({ error }),
      )
      .finally(() => {
        setBusy(false);
        onDone();
      });
  };
  return { busy, outcome, run };
}

function Review({ change: c, onDone }: { change: ChangeAnswer; onDone: () => void }) {
  const session = currentSession();
  const [reason, setReason] = useState("");
  const { busy, outcome, run } = useAction(onDone);
  const open = !c.archived && c.status !== "applied" && c.status !== "rejected";
  const approve = open && c.status !== "approved" && mayApprove(session, c.author);
  const reject = open && mayReject(session, c.author);
  const apply = open && mayApply(session);
  const base = `/api/changes/${encodeURIComponent(c.id)}`;
  const body = reason.trim() === "" ? {} : { reason: reason.trim() };
  return (
    <Section title="Review" id="change-review">
      {approve || reject || apply ? (
        <>
          <label for="review-reason">Reason (optional, recorded in the audit log)</label>
          <textarea
            id="review-reason"
            class="short"
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <div class="row">
            {approve ? (
              <button
                type="button"
                class="primary"
                disabled={busy}
                onClick={() =>
                  run(() =>
                    post<{ status: string }>(`${base}/approve`, body).then((r) => `Approved (${r.status}).`),
                  )
                }
              >
                Approve
              </button>
            ) : null}
            {apply ? (
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  run(() =>
                    post<{ archive: string; files: string[] }>(`${base}/apply`, body).then(
                      (r) =>
                        `Applied: ${r.files.join(", ")} written; the change is archived in ${r.archive}.`,
                    ),
                  )
                }
              >
                Apply
              </button>
            ) : null}
            {reject ? (
              <button
                type="button"
                class="danger"
                disabled={busy}
                onClick={() => run(() => post(`${base}/reject`, body).then(() => "Rejected."))}
              >
                Reject
              </button>
            ) : null}
          </div>
        </>
      ) : (
        <p class="muted">
          {open
            ? "Your role does not review changes here: reviewers approve, reject and apply them."
            : `This change is ${c.archived ? "applied" : c.status}.`}
        </p>
      )}
      <div role="status">{outcome && "ok" in outcome ? <p class="note">{outcome.ok}</p> : null}</div>
      {outcome && "error" in outcome ? <Refusal error={outcome.error} /> : null}
    </Section>
  );
}

function Refusal({ error }: { error: Error }) {
  if (error instanceof ApiError && error.status === 409 && error.code === "conflict")
    return (
      <div class="error" role="alert">
        <strong>{error.message}</strong>
        <p>
          Resolve it on the <a href="/conflicts">conflicts page</a>, then apply again.
        </p>
      </div>
    );
  return <ErrorBox error={error} />;
}

function Comments({ id }: { id: string }) {
  const session = currentSession();
  const path = `/api/changes/${encodeURIComponent(id)}/comments`;
  const comments = useResource<CommentsAnswer>(path, ["audit"]);
  const [text, setText] = useState("");
  const { busy, outcome, run } = useAction(comments.reload);
  const list = comments.data?.comments ?? [];
  return (
    <Section title={`Comments (${list.length})`} id="change-comments">
      <ErrorBox error={comments.error} />
      <ol class="comments">
        {list.map((c) => {
          const who = splitLabel(c.by);
          return (
            <li key={c.seq}>
              <p class="row">
                <Origin origin={who.origin ?? c.kind} by={who.name} />
                <time dateTime={c.at} class="muted">
                  {timeAgo(c.at)}
                </time>
              </p>
              <Markdown text={c.text} agent={c.kind === "agent"} />
            </li>
          );
        })}
      </ol>
      {list.length === 0 ? <p class="muted">No comments yet.</p> : null}
      {mayComment(session) ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            run(() =>
              post(path, { text }).then(() => {
                setText("");
                return "Comment added.";
              }),
            );
          }}
        >
          <label for="comment-text">Your comment</label>
          <textarea
            id="comment-text"
            class="short"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button type="submit" class="primary" disabled={busy || text.trim() === ""}>
            Add comment
          </button>
          <span role="status">{outcome && "ok" in outcome ? ` ${outcome.ok}` : ""}</span>
          {outcome && "error" in outcome ? <ErrorBox error={outcome.error} /> : null}
        </form>
      ) : null}
    </Section>
  );
}
