// Jira Cloud's `jira:issue_updated` webhook (developer.atlassian.com, "Webhooks"): a changelog item that assigns the
// issue to someone (`field: assignee` with a `to`) or moves it to another status (`field: status`) is a ticket;
// every other event and change is ignored. An admin webhook registered with a secret is signed in `X-Hub-Signature`
// as `sha256=<hex>` (HMAC-SHA256 of the body), and named by `X-Atlassian-Webhook-Identifier`, which a retry keeps.
// @req RUN-13
import type { TriggerConfig } from "../../workspace/triggers-config.js";
import {
  type HookHeaders,
  type HookProvider,
  jsonObject,
  malformed,
  type Obj,
  obj,
  passes,
  type Reading,
  text,
  webUrl,
} from "./hook.js";

const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;

/** The changelog's assignments and transitions that pass the filters, as events; and the first that did not. */
function events(items: unknown[], config: TriggerConfig): { events: string[]; filtered: string | null } {
  const out: string[] = [];
  let filtered: string | null = null;
  for (const item of items.map(obj)) {
    if (item === null) throw malformed(jiraHook, "has a changelog item that is not an object");
    const to = text(item.toString);
    if (item.field === "assignee" && to !== null) {
      if (passes(config.assignees, to, text(item.to))) out.push(`assigned to ${to}`);
      else filtered ??= `assigned to ${to}, who is not in triggers.jira.assignees`;
    } else if (item.field === "status" && to !== null) {
      const from = text(item.fromString);
      if (passes(config.statuses, to)) out.push(`moved ${from ? `from ${from} ` : ""}to ${to}`);
      else filtered ??= `moved to ${to}, which is not in triggers.jira.statuses`;
    }
  }
  return { events: out, filtered };
}

/** Jira Cloud's description: wiki text, or an Atlassian Document (v3) whose text nodes are joined. */
function description(value: unknown): string {
  if (typeof value === "string") return value;
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    const n = obj(node);
    if (n === null) return;
    if (typeof n.text === "string") parts.push(n.text);
    if (Array.isArray(n.content)) {
      for (const c of n.content) walk(c);
      if (n.type === "paragraph" || n.type === "heading") parts.push("\n\n");
    }
  };
  walk(value);
  return parts.join("").trim();
}

function read(value: unknown, _headers: HookHeaders, config: TriggerConfig): Reading {
  const p = value as Obj;
  if (typeof p.webhookEvent !== "string") throw malformed(jiraHook, "has no webhookEvent");
  if (p.webhookEvent !== "jira:issue_updated")
    return { ignored: `event "${p.webhookEvent}" is not handled (only jira:issue_updated)` };
  const items = obj(p.changelog)?.items;
  if (!Array.isArray(items)) throw malformed(jiraHook, "of jira:issue_updated has no changelog.items");
  const found = events(items, config);
  if (found.events.length === 0)
    return { ignored: found.filtered ?? "the change is neither an assignment nor a status transition" };
  const issue = obj(p.issue);
  if (issue === null) throw malformed(jiraHook, "has no `issue`");
  const key = text(issue.key);
  if (key === null || !ISSUE_KEY.test(key)) throw malformed(jiraHook, "has no issue.key");
  // `self` is the issue's REST address on the site; a person's page is the site's /browse/<key>.
  const self = webUrl(issue.self);
  if (self === null) throw malformed(jiraHook, "has no issue.self");
  const fields = obj(issue.fields);
  const title = text(fields?.summary);
  if (title === null) throw malformed(jiraHook, "has no issue.fields.summary");
  const person = (f: unknown) => text(obj(f)?.displayName) ?? text(obj(f)?.accountId);
  const author = person(fields?.reporter) ?? person(fields?.creator);
  if (author === null) throw malformed(jiraHook, "has no issue.fields.reporter or creator");
  return {
    ticket: {
      key,
      url: `${new URL(self).origin}/browse/${key}`,
      title,
      body: description(fields?.description),
      author,
      event: found.events.join(" and "),
      sender: person(p.user),
      changeName: `jira ${key}`,
    },
  };
}

export const jiraHook: HookProvider = {
  name: "jira",
  label: "Jira",
  signatureHeader: "x-hub-signature",
  deliveryHeader: "x-atlassian-webhook-identifier",
  payload: (body) => jsonObject(jiraHook, body.toString("utf8")),
  read,
};
