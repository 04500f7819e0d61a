// The metrics as a picture: headline figures, bars of first-pass rate per agent, per capability and per gate, and
// the tasks landed per day under a line of the first-pass rate. One self-contained SVG: presentation attributes
// only (no CSS, no script, no font or image to fetch), so it reads the same in a browser, an editor's preview or
// a pull-request comment; a title, a description and per-mark titles say in words what the marks show.
// @req RUN-15
import {
  formatDuration,
  formatNumber,
  formatRate,
  formatUsd,
  type MetricSet,
  type MetricsReport,
} from "./metrics.js";

const WIDTH = 880;
const PAD = 24;
const INK = "#1a202c";
const DIM = "#4a5568";
const TRACK = "#edf2f7";
const BAR = "#2f855a";
const LINE = "#c05621";
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** A block of marks laid out from a top edge, and how tall it came out. */
interface Block {
  svg: string;
  height: number;
}

export function metricsSvg(report: MetricsReport): string {
  const blocks: Array<(top: number) => Block> = [header(report)];
  if (!report.empty) {
    blocks.push(tiles(report.overall));
    blocks.push(bars("First-pass gate rate by agent", report.byAgent.map(agentRow)));
    blocks.push(bars("First-pass gate rate by capability", report.byCapability.map(capabilityRow)));
    blocks.push(timeline(report.byDay));
    blocks.push(bars("Gate pass rate (evidence)", report.gates.map(gateRow)));
  }
  let top = PAD;
  const body: string[] = [];
  for (const block of blocks) {
    const b = block(top);
    if (b.height === 0) continue;
    body.push(b.svg);
    top += b.height + 20;
  }
  const height = top - 20 + PAD;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="keel-metrics-title keel-metrics-desc" font-family="${FONT}" fill="${INK}">`,
    `<title id="keel-metrics-title">Keel metrics</title>`,
    `<desc id="keel-metrics-desc">${escapeXml(describe(report))}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/** What the chart shows, as a sentence for a screen reader (and anyone who cannot see the marks). */
function describe(r: MetricsReport): string {
  if (r.empty) return "No run of the work loop is recorded yet: there is nothing to measure.";
  const o = r.overall;
  const agents = r.byAgent.map((a) => `${a.agent} ${formatRate(a.firstPass.rate)} of ${a.tasks}`).join(", ");
  return (
    `First-pass gate rate ${formatRate(o.firstPass.rate)} over ${o.tasks} tasks in ${r.runs} runs; ` +
    `${o.landed} landed, ${o.rework.tasks} reworked, ${o.stalls} stalls, ${o.boundaryViolations} boundary violations. ` +
    `First-pass rate by agent: ${agents || "none"}.`
  );
}

function header(r: MetricsReport): (top: number) => Block {
  const span = r.from && r.to ? `${r.from.slice(0, 10)} to ${r.to.slice(0, 10)}` : "";
  const sub = r.empty
    ? "No run yet: `keel run` records the attempts these figures are made of."
    : `${r.overall.tasks} tasks, ${r.overall.attempts} attempts, ${r.runs} runs${span ? `, ${span}` : ""}${r.since ? ` (since ${r.since})` : ""}`;
  return (top) => ({
    svg: [
      text(PAD, top + 22, "Keel metrics", { size: 22, weight: "bold" }),
      text(PAD, top + 46, sub, { size: 13, fill: DIM }),
    ].join("\n"),
    height: 52,
  });
}

function tiles(o: MetricSet): (top: number) => Block {
  const items: Array<[string, string]> = [
    ["first pass", formatRate(o.firstPass.rate)],
    ["attempts / task", o.attemptsPerTask ? formatNumber(o.attemptsPerTask.mean) : "–"],
    ["to done, p50", formatDuration(o.timeToDoneMs?.p50)],
    ["tasks reworked", String(o.rework.tasks)],
    ["stalls", String(o.stalls)],
    ["out of bounds", String(o.boundaryViolations)],
    ["cost / task", formatUsd(o.cost.perTaskUsd)],
  ];
  const gap = 10;
  const w = (WIDTH - 2 * PAD - gap * (items.length - 1)) / items.length;
  return (top) => ({
    svg: items
      .map(([label, value], i) => {
        const x = PAD + i * (w + gap);
        return [
          `<g><title>${escapeXml(`${label}: ${value}`)}</title>`,
          `<rect x="${n(x)}" y="${top}" width="${n(w)}" height="64" rx="6" fill="${TRACK}"/>`,
          text(x + 10, top + 30, value, { size: 20, weight: "bold" }),
          text(x + 10, top + 50, label, { size: 11, fill: DIM }),
          "</g>",
        ].join("");
      })
      .join("\n"),
    height: 64,
  });
}

interface BarRow {
  label: string;
  rate: number | null;
  note: string;
}

function agentRow(a: { agent: string } & MetricSet): BarRow {
  return {
    label: a.agent,
    rate: a.firstPass.rate,
    note: `${count(a.tasks, "task")} · ${count(a.stalls, "stall")} · ${a.rework.tasks} reworked · ${a.boundaryViolations} out of bounds · ${formatUsd(a.cost.perTaskUsd)}/task`,
  };
}

function capabilityRow(c: { capability: string } & MetricSet): BarRow {
  return {
    label: c.capability,
    rate: c.firstPass.rate,
    note: `${count(c.tasks, "task")} · ${c.landed} landed · ${c.rework.tasks} reworked`,
  };
}

function gateRow(g: { gate: string; runs: number; passed: number; passRate: number }): BarRow {
  return { label: g.gate, rate: g.passRate, note: `${g.passed}/${g.runs} runs passed` };
}

const LABEL_W = 140;
const TRACK_W = 240;
const ROW_H = 26;

function bars(title: string, rows: BarRow[]): (top: number) => Block {
  if (rows.length === 0) return () => ({ svg: "", height: 0 });
  return (top) => {
    const out = [text(PAD, top + 16, title, { size: 15, weight: "bold" })];
    rows.forEach((r, i) => {
      const y = top + 28 + i * ROW_H;
      const x = PAD + LABEL_W;
      const filled = r.rate === null ? 0 : Math.max(r.rate * TRACK_W, r.rate > 0 ? 2 : 0);
      out.push(
        [
          `<g><title>${escapeXml(`${r.label}: ${formatRate(r.rate)} (${r.note})`)}</title>`,
          text(PAD, y + 13, clip(r.label, 18), { size: 13 }),
          `<rect x="${x}" y="${y}" width="${TRACK_W}" height="16" rx="3" fill="${TRACK}"/>`,
          filled > 0 ? `<rect x="${x}" y="${y}" width="${n(filled)}" height="16" rx="3" fill="${BAR}"/>` : "",
          text(x + TRACK_W + 8, y + 13, formatRate(r.rate), { size: 13, weight: "bold" }),
          text(x + TRACK_W + 56, y + 13, r.note, { size: 11, fill: DIM }),
          "</g>",
        ].join(""),
      );
    });
    return { svg: out.join("\n"), height: 28 + rows.length * ROW_H };
  };
}

const PLOT_H = 160;

function timeline(days: MetricsReport["byDay"]): (top: number) => Block {
  if (days.length === 0) return () => ({ svg: "", height: 0 });
  return (top) => {
    const x0 = PAD + 36;
    const x1 = WIDTH - PAD - 44;
    const y0 = top + 44;
    const y1 = y0 + PLOT_H;
    const maxLanded = Math.max(1, ...days.map((d) => d.landedOn));
    const step = Math.ceil(maxLanded / 4);
    const ceiling = step * Math.ceil(maxLanded / step);
    const band = (x1 - x0) / days.length;
    const mid = (i: number) => x0 + band * (i + 0.5);
    const labelEvery = Math.ceil(days.length / 14);
    const out = [
      text(PAD, top + 16, "Tasks landed per day, with the first-pass rate of the tasks begun that day", {
        size: 15,
        weight: "bold",
      }),
      legend(x0, top + 34),
      ...axes(x0, x1, y0, y1, ceiling, step),
    ];
    days.forEach((d, i) => {
      const h = (d.landedOn / ceiling) * PLOT_H;
      const w = Math.min(40, band * 0.6);
      out.push(
        `<rect x="${n(mid(i) - w / 2)}" y="${n(y1 - h)}" width="${n(w)}" height="${n(h)}" fill="${BAR}"><title>${escapeXml(`${d.day}: ${d.landedOn} landed`)}</title></rect>`,
      );
      if (i % labelEvery === 0) {
        out.push(text(mid(i), y1 + 16, d.day.slice(5), { size: 11, anchor: "middle", fill: DIM }));
        if (labelEvery === 1)
          out.push(text(mid(i), y1 + 30, `${d.landedOn} landed`, { size: 10, anchor: "middle", fill: DIM }));
      }
    });
    out.push(...rateLine(days, mid, y1));
    return { svg: out.join("\n"), height: y1 + 34 - top };
  };
}

function legend(x: number, y: number): string {
  return [
    `<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${BAR}"/>`,
    text(x + 18, y, "tasks landed (left axis)", { size: 11, fill: DIM }),
    `<line x1="${x + 180}" y1="${y - 4}" x2="${x + 196}" y2="${y - 4}" stroke="${LINE}" stroke-width="2.5"/>`,
    text(x + 202, y, "first-pass rate (right axis)", { size: 11, fill: DIM }),
  ].join("");
}

function axes(x0: number, x1: number, y0: number, y1: number, ceiling: number, step: number): string[] {
  const out = [`<line x1="${x0}" y1="${y1}" x2="${x1}" y2="${y1}" stroke="${DIM}" stroke-width="1"/>`];
  for (let v = 0; v <= ceiling; v += step) {
    const y = y1 - (v / ceiling) * (y1 - y0);
    if (v > 0)
      out.push(`<line x1="${x0}" y1="${n(y)}" x2="${x1}" y2="${n(y)}" stroke="${TRACK}" stroke-width="1"/>`);
    out.push(text(x0 - 8, y + 4, String(v), { size: 11, anchor: "end", fill: DIM }));
  }
  for (const pct of [0, 50, 100]) {
    const y = y1 - (pct / 100) * (y1 - y0);
    out.push(text(x1 + 8, y + 4, `${pct}%`, { size: 11, fill: LINE }));
  }
  return out;
}

function rateLine(days: MetricsReport["byDay"], mid: (i: number) => number, y1: number): string[] {
  const points = days.flatMap((d, i) =>
    d.firstPass.rate === null ? [] : [{ x: mid(i), y: y1 - d.firstPass.rate * PLOT_H, d }],
  );
  if (points.length === 0) return [];
  const out = [
    `<polyline points="${points.map((p) => `${n(p.x)},${n(p.y)}`).join(" ")}" fill="none" stroke="${LINE}" stroke-width="2.5" stroke-linejoin="round"/>`,
  ];
  for (const p of points) {
    const label = formatRate(p.d.firstPass.rate);
    out.push(
      `<circle cx="${n(p.x)}" cy="${n(p.y)}" r="4" fill="${LINE}"><title>${escapeXml(`${p.d.day}: first-pass ${label} (${p.d.firstPass.tasks} of ${p.d.tasks} tasks begun)`)}</title></circle>`,
      text(p.x, p.y - 9, label, { size: 11, weight: "bold", fill: LINE, anchor: "middle", halo: true }),
    );
  }
  return out;
}

// --- primitives --------------------------------------------------------------------------------------------------

interface TextStyle {
  size: number;
  weight?: "bold";
  fill?: string;
  anchor?: "start" | "middle" | "end";
  /** A white outline under the glyphs, so the text reads over bars and lines. */
  halo?: boolean;
}

function text(x: number, y: number, content: string, s: TextStyle): string {
  const attrs = [
    `x="${n(x)}"`,
    `y="${n(y)}"`,
    `font-size="${s.size}"`,
    s.weight ? `font-weight="${s.weight}"` : "",
    s.fill ? `fill="${s.fill}"` : "",
    s.anchor && s.anchor !== "start" ? `text-anchor="${s.anchor}"` : "",
    s.halo ? 'stroke="#ffffff" stroke-width="3" paint-order="stroke"' : "",
  ].filter(Boolean);
  return `<text ${attrs.join(" ")}>${escapeXml(content)}</text>`;
}

/** A coordinate to one decimal: enough for a screen, and stable text for a diff. */
function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function count(k: number, word: string): string {
  return `${k} ${word}${k === 1 ? "" : "s"}`;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Text safe in XML content and attribute values; characters XML 1.0 forbids are dropped. */
export function escapeXml(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the control characters XML forbids
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}
