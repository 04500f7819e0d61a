// Metrics: how the work loop is doing (`keel metrics`) — headline figures, then bar charts drawn in the page as SVG
// (no script, no image to fetch): attempt outcomes, first-pass gate rate by agent and by capability, landings per
// day and the gates' pass rate. Each chart says what it shows in words (its title and description) and as a table.
import { useResource } from "../live";
import { ErrorBox, Loading, Section } from "../ui";

interface MetricSet {
  tasks: number;
  attempts: number;
  firstPass: { tasks: number; rate: number | null };
  landed: number;
  blocked: number;
  stalls: number;
  boundaryViolations: number;
  timeToDoneMs: { p50: number; p90: number } | null;
  attemptsPerTask: { mean: number; p50: number; max: number } | null;
  outcomes: Record<string, number>;
}

interface MetricsAnswer {
  empty: boolean;
  runs: number;
  from: string | null;
  to: string | null;
  overall: MetricSet;
  byAgent: Array<{ agent: string } & MetricSet>;
  byCapability: Array<{ capability: string } & MetricSet>;
  byDay: Array<{ day: string; landedOn: number } & MetricSet>;
  gates: Array<{ gate: string; runs: number; passed: number; passRate: number }>;
}

interface Bar {
  label: string;
  value: number;
  /** The bar in words, e.g. "50% (1 of 2 tasks)". */
  text: string;
  /** A bar that counts something gone wrong (a red attempt outcome). */
  bad?: boolean;
}

const rate = (r: number | null) => (r === null ? "–" : `${Math.round(r * 100)}%`);

function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function firstPassBar(label: string, m: MetricSet): Bar {
  return {
    label,
    value: m.firstPass.rate ?? 0,
    text: `${rate(m.firstPass.rate)} (${m.firstPass.tasks} of ${m.tasks} tasks)`,
  };
}

export default function Metrics() {
  const metrics = useResource<MetricsAnswer>("/api/metrics", ["run.*", "audit"]);
  if (metrics.error && !metrics.data) return <ErrorBox error={metrics.error} />;
  if (!metrics.data) return <Loading />;
  const m = metrics.data;
  if (m.empty)
    return (
      <div class="metrics">
        <h1>Metrics</h1>
        <section class="card empty" aria-labelledby="metrics-none">
          <h2 id="metrics-none">Nothing to measure yet</h2>
          <p>
            The metrics read the attempts <code>keel run</code> records: once a run has worked a task, its
            first-pass rate, attempts, rework and time to done show here.
          </p>
        </section>
      </div>
    );
  const o = m.overall;
  const outcomes = Object.entries(o.outcomes)
    .filter(([, n]) => n > 0)
    .map(([label, n]) => ({
      label,
      value: n,
      text: `${n} attempt${n === 1 ? "" : "s"}`,
      bad: label !== "green",
    }));
  return (
    <div class="metrics">
      <h1>Metrics</h1>
      <ErrorBox error={metrics.error} />
      <p class="muted">
        {m.runs} run{m.runs === 1 ? "" : "s"}
        {m.from && m.to ? `, ${m.from.slice(0, 10)} to ${m.to.slice(0, 10)}` : ""}
      </p>
      <ul class="plain tiles">
        <Tile label="Tasks" value={String(o.tasks)} />
        <Tile label="Attempts" value={String(o.attempts)} />
        <Tile label="First-pass gate rate" value={rate(o.firstPass.rate)} />
        <Tile label="Landed" value={String(o.landed)} />
        <Tile label="Blocked" value={String(o.blocked)} />
        <Tile label="Time to done (p50)" value={duration(o.timeToDoneMs?.p50)} />
        <Tile label="Stalls" value={String(o.stalls)} />
        <Tile label="Boundary violations" value={String(o.boundaryViolations)} />
      </ul>
      <div class="charts">
        <Chart id="chart-outcomes" title="Attempt outcomes" bars={outcomes} />
        <Chart
          id="chart-agents"
          title="First-pass gate rate by agent"
          bars={m.byAgent.map((a) => firstPassBar(a.agent, a))}
          max={1}
        />
        <Chart
          id="chart-capabilities"
          title="First-pass gate rate by capability"
          bars={m.byCapability.map((c) => firstPassBar(c.capability, c))}
          max={1}
        />
        <Chart
          id="chart-days"
          title="Tasks landed per day"
          bars={m.byDay.map((d) => ({
            label: d.day,
            value: d.landedOn,
            text: `${d.landedOn} landed, ${d.tasks} first attempted`,
          }))}
        />
        <Chart
          id="chart-gates"
          title="Gate pass rate"
          bars={m.gates.map((g) => ({
            label: g.gate,
            value: g.passRate,
            text: `${rate(g.passRate)} (${g.passed} of ${g.runs} runs)`,
          }))}
          max={1}
        />
      </div>
    </div>
  );
}

function Tile({ label, value }: { label: string; value: string }) {
  return (
    <li class="tile">
      <span class="tile-value">{value}</span>
      <span class="tile-label">{label}</span>
    </li>
  );
}

const ROW = 26;
const LABEL_W = 160;
const BAR_W = 240;
const WIDTH = LABEL_W + BAR_W + 200;

/** Horizontal bars in SVG: each bar has its label, its words and a title of its own. */
function Chart({ id, title, bars, max }: { id: string; title: string; bars: Bar[]; max?: number }) {
  const top = max ?? Math.max(1, ...bars.map((b) => b.value));
  const height = Math.max(1, bars.length) * ROW + 8;
  const words = bars.length === 0 ? "No data." : bars.map((b) => `${b.label}: ${b.text}`).join("; ");
  return (
    <Section title={title} id={`${id}-h`}>
      <svg
        class="chart"
        width={WIDTH}
        height={height}
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        preserveAspectRatio="xMinYMin meet"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{words}</desc>
        {bars.map((b, i) => {
          const y = 4 + i * ROW;
          const w = Math.max(2, (b.value / top) * BAR_W);
          return (
            <g key={b.label}>
              <title>{`${b.label}: ${b.text}`}</title>
              <text x={LABEL_W - 8} y={y + 16} text-anchor="end" class="chart-label">
                {b.label.length > 22 ? `${b.label.slice(0, 21)}…` : b.label}
              </text>
              <rect x={LABEL_W} y={y + 3} width={BAR_W} height={ROW - 8} class="chart-track" />
              <rect
                x={LABEL_W}
                y={y + 3}
                width={w}
                height={ROW - 8}
                class={b.bad ? "chart-bar chart-bar-bad" : "chart-bar"}
              />
              <text x={LABEL_W + BAR_W + 8} y={y + 16} class="chart-value">
                {b.text}
              </text>
            </g>
          );
        })}
        {bars.length === 0 ? (
          <text x={8} y={20} class="chart-value">
            No data.
          </text>
        ) : null}
      </svg>
      <details>
        <summary>As a table</summary>
        <table>
          <caption class="sr-only">{title}</caption>
          <tbody>
            {bars.map((b) => (
              <tr key={b.label}>
                <th scope="row">{b.label}</th>
                <td>{b.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </Section>
  );
}
