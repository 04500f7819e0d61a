// Small pieces every view uses: status and provenance badges, fingerprints, loading and error states. Markdown
// and word diffs are in rich.tsx, so the first screen does not load their libraries.
import type { ComponentChildren } from "preact";
import { ApiError } from "./api";

export function Badge({
  tone,
  children,
  title,
}: {
  tone?: string;
  children: ComponentChildren;
  title?: string;
}) {
  return (
    <span class={`badge ${tone ? `badge-${tone}` : ""}`} title={title}>
      {children}
    </span>
  );
}

const STATUS_TONE: Record<string, string> = {
  approved: "good",
  applied: "good",
  done: "good",
  proposed: "warn",
  review: "warn",
  claimed: "info",
  draft: "muted",
  open: "muted",
  deprecated: "bad",
  rejected: "bad",
  blocked: "bad",
};

export function Status({ value }: { value: string | null | undefined }) {
  const v = value ?? "none";
  return <Badge tone={STATUS_TONE[v] ?? "muted"}>{v}</Badge>;
}

/** Who wrote it: an agent's text is marked so a reader weighs it as untrusted. */
export function Origin({
  origin,
  explicit,
  by,
}: {
  origin: string | null | undefined;
  explicit?: boolean | null;
  by?: string | null;
}) {
  if (!origin) return null;
  const label = `${origin}${explicit === false ? " · inferred" : explicit ? " · explicit" : ""}`;
  return (
    <Badge
      tone={origin === "agent" ? "agent" : origin === "human" ? "human" : "muted"}
      title={by ? `written by ${by}` : undefined}
    >
      {label}
      {by ? ` · ${by}` : ""}
    </Badge>
  );
}

export function Fingerprint({ value }: { value: string | null | undefined }) {
  if (!value) return null;
  return (
    <code class="fingerprint" title={`fingerprint ${value}`}>
      {value.slice(0, 12)}
    </code>
  );
}

export function Loading() {
  return (
    <p class="loading" aria-live="polite">
      Loading…
    </p>
  );
}

export function ErrorBox({ error }: { error: Error | null }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{error.message}</strong>
      {error instanceof ApiError && error.hint ? <p>{error.hint}</p> : null}
    </div>
  );
}

export function Section({
  title,
  children,
  id,
}: {
  title: string;
  children: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function timeAgo(iso: string | null | undefined): string {
  if (!iso) return "";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
