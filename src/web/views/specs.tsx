// The specs view. /specs lists the capability specs with their status and requirement counts; /specs/<capability>
// renders its requirements as a person reads them, a page of them at a time; /specs/<capability>/<ID> focuses one
// requirement, with its history, trace and the edit in place (specs-focus.tsx). Everything refetches when a spec
// file is saved or the audit log grows, so an edit made anywhere shows without a reload.
// @req WEB-5, WEB-9
import { useResource } from "../live";
import { Badge, ErrorBox, Loading, Status } from "../ui";
import type { ViewProps } from "./index";
import { RequirementFocus } from "./specs-focus";
import { asPerson, type BlameEntry, RequirementCard, type RequirementRecord } from "./specs-requirement";

const LIVE = ["spec.edited", "audit"];
/** Requirements on one page of a capability: a large spec is read a page at a time. */
const PAGE = 50;
const STATUSES = ["approved", "proposed", "draft", "deprecated"];

interface SpecItem {
  capability: string;
  title: string | null;
  status: string | null;
  requirements: number;
  file: string;
  layout: string;
  problem: string | null;
}

export default function Specs({ rest, query }: ViewProps) {
  const [capability, id] = rest;
  if (capability === undefined) return <SpecList />;
  return <Capability capability={capability} id={id ?? null} from={Number(query.get("from") ?? 0) || 0} />;
}

function capabilityPath(capability: string): string {
  return `/specs/${encodeURIComponent(capability)}`;
}

function SpecList() {
  const specs = useResource<{ specs: SpecItem[] }>("/api/specs", ["spec.edited"]);
  const reqs = useResource<{ requirements: Array<{ capability: string; status: string | null }> }>(
    "/api/requirements",
    ["spec.edited"],
  );
  if (!specs.data) return specs.error ? <ErrorBox error={specs.error} /> : <Loading />;
  const counts = new Map<string, Record<string, number>>();
  for (const r of reqs.data?.requirements ?? []) {
    const c = counts.get(r.capability) ?? {};
    const s = r.status ?? "none";
    c[s] = (c[s] ?? 0) + 1;
    counts.set(r.capability, c);
  }
  return (
    <div class="specs">
      <h1>Specs</h1>
      <table class="card spec-table">
        <caption class="sr-only">The capability specs, with their status and requirements by status</caption>
        <thead>
          <tr>
            <th scope="col">Capability</th>
            <th scope="col">Status</th>
            <th scope="col">Requirements</th>
            {STATUSES.map((s) => (
              <th scope="col" key={s}>
                {s}
              </th>
            ))}
            <th scope="col">File</th>
          </tr>
        </thead>
        <tbody>
          {specs.data.specs.map((s) => (
            <tr key={s.file}>
              <th scope="row">
                <a href={capabilityPath(s.capability)}>{s.title ?? s.capability}</a>
                <div class="muted">{s.capability}</div>
              </th>
              <td>
                {s.status ? <Status value={s.status} /> : <span class="muted">–</span>}
                {s.problem ? (
                  <Badge tone="bad" title={s.problem}>
                    unreadable
                  </Badge>
                ) : null}
              </td>
              <td class="num">{s.requirements}</td>
              {STATUSES.map((st) => (
                <td class="num" key={st}>
                  {counts.get(s.capability)?.[st] ?? 0}
                </td>
              ))}
              <td>
                <code>{s.file}</code> <span class="muted">{s.layout}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Capability({ capability, id, from }: { capability: string; id: string | null; from: number }) {
  const enc = encodeURIComponent(capability);
  const spec = useResource<{ specs: SpecItem[] }>(`/api/specs?capability=${enc}`, ["spec.edited"]);
  const blame = useResource<{ requirements: BlameEntry[] }>(
    asPerson() ? `/api/specs/${enc}/blame` : null,
    LIVE,
  );
  const info = spec.data?.specs.find((s) => s.capability === capability);
  const blameOf = (rid: string) => blame.data?.requirements.find((b) => b.id === rid);
  return (
    <div class="specs">
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <ol>
          <li>
            <a href="/specs">Specs</a>
          </li>
          <li>
            {id === null ? (
              <span aria-current="page">{info?.title ?? capability}</span>
            ) : (
              <a href={capabilityPath(capability)}>{info?.title ?? capability}</a>
            )}
          </li>
          {id !== null ? (
            <li>
              <span aria-current="page">{id}</span>
            </li>
          ) : null}
        </ol>
      </nav>
      {id !== null ? (
        <RequirementFocus id={id} blame={blameOf(id)} />
      ) : (
        <>
          <h1>
            {info?.title ?? capability} {info?.status ? <Status value={info.status} /> : null}
          </h1>
          {info ? (
            <p class="muted">
              <code>{info.file}</code> · {info.requirements} requirement{info.requirements === 1 ? "" : "s"}
            </p>
          ) : null}
          <Requirements capability={capability} from={from} blameOf={blameOf} />
        </>
      )}
    </div>
  );
}

function Requirements({
  capability,
  from,
  blameOf,
}: {
  capability: string;
  from: number;
  blameOf: (id: string) => BlameEntry | undefined;
}) {
  const page = useResource<{ total: number; requirements: RequirementRecord[] }>(
    `/api/specs/${encodeURIComponent(capability)}/requirements?raw=${asPerson()}&offset=${from}&limit=${PAGE}`,
    LIVE,
  );
  if (!page.data) return page.error ? <ErrorBox error={page.error} /> : <Loading />;
  const { total, requirements } = page.data;
  const pager = (to: number, label: string) => (
    <a href={`${capabilityPath(capability)}?from=${to}`}>{label}</a>
  );
  return (
    <>
      {requirements.map((r) => (
        <RequirementCard key={r.id} record={r} blame={blameOf(r.id)} focused={false} />
      ))}
      {requirements.length === 0 ? <p class="muted">No requirements.</p> : null}
      {total > PAGE ? (
        <nav aria-label="Pages of requirements" class="row pager">
          <span>
            {from + 1}–{Math.min(from + PAGE, total)} of {total}
          </span>
          {from > 0 ? pager(Math.max(0, from - PAGE), "Previous") : null}
          {from + PAGE < total ? pager(from + PAGE, "Next") : null}
        </nav>
      ) : null}
    </>
  );
}
