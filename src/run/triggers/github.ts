// GitHub's `issues` webhook (docs.github.com, "Webhook events and payloads", issues): an issue `assigned` (the
// payload's `assignee`) or `labeled` (its `label`) is a ticket; every other event and action is ignored. The
// delivery is signed in `X-Hub-Signature-256` and named by `X-GitHub-Delivery`, a GUID that a redelivery keeps.
// GitHub sends the payload as JSON, or form-encoded in a `payload` field when the webhook's content type is
// application/x-www-form-urlencoded; the signature covers the body either way.
// @req RUN-13
import type { TriggerConfig } from "../../workspace/triggers-config.js";
import {
  type HookHeaders,
  type HookProvider,
  headerOf,
  jsonObject,
  malformed,
  type Obj,
  obj,
  passes,
  type Reading,
  text,
  webUrl,
} from "./hook.js";

function payload(body: Buffer, headers: HookHeaders): unknown {
  const type = headerOf(headers, "content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type))
    return jsonObject(githubHook, body.toString("utf8"));
  const field = new URLSearchParams(body.toString("utf8")).get("payload");
  if (field === null) throw malformed(githubHook, "is form-encoded without a `payload` field");
  return jsonObject(githubHook, field);
}

/** The action, and who or what it names, or why it does not count. */
function what(p: Obj, config: TriggerConfig): { event: string } | { ignored: string } {
  if (p.action === "assigned") {
    const login = text(obj(p.assignee)?.login);
    if (login === null) throw malformed(githubHook, "of an `assigned` action has no assignee.login");
    if (!passes(config.assignees, login))
      return { ignored: `assigned to ${login}, who is not in triggers.github.assignees` };
    return { event: `assigned to ${login}` };
  }
  if (p.action === "labeled") {
    const label = text(obj(p.label)?.name);
    if (label === null) throw malformed(githubHook, "of a `labeled` action has no label.name");
    if (!passes(config.labels, label))
      return { ignored: `labeled ${label}, which is not in triggers.github.labels` };
    return { event: `labeled ${label}` };
  }
  if (typeof p.action !== "string") throw malformed(githubHook, "has no `action`");
  return { ignored: `action "${p.action}" is not handled (only assigned and labeled)` };
}

function read(value: unknown, headers: HookHeaders, config: TriggerConfig): Reading {
  const event = headerOf(headers, "x-github-event");
  if (!event) throw malformed(githubHook, "comes without an X-GitHub-Event header");
  // GitHub pings a webhook once when it is created: a sign that it reaches Keel and verifies.
  if (event === "ping") return { ignored: "ping: the webhook reaches Keel and its signature verifies" };
  if (event !== "issues") return { ignored: `event "${event}" is not handled (only issues)` };
  const p = value as Obj;
  const action = what(p, config);
  if ("ignored" in action) return action;
  const issue = obj(p.issue);
  if (issue === null) throw malformed(githubHook, "has no `issue`");
  const url = webUrl(issue.html_url);
  if (url === null) throw malformed(githubHook, "has no issue.html_url");
  if (typeof issue.number !== "number" || !Number.isInteger(issue.number))
    throw malformed(githubHook, "has no issue.number");
  const title = text(issue.title);
  if (title === null) throw malformed(githubHook, "has no issue.title");
  const author = text(obj(issue.user)?.login);
  if (author === null) throw malformed(githubHook, "has no issue.user.login");
  if (issue.body != null && typeof issue.body !== "string")
    throw malformed(githubHook, "has an issue.body that is not text");
  const repository = text(obj(p.repository)?.full_name);
  return {
    ticket: {
      key: `${repository ?? ""}#${issue.number}`,
      url,
      title,
      body: (issue.body as string | null | undefined) ?? "",
      author,
      event: action.event,
      sender: text(obj(p.sender)?.login),
      // One change per issue, whatever happens to it: the repository's name and the issue's number.
      changeName: `github ${repository?.split("/")[1] ?? ""} ${issue.number}`,
    },
  };
}

export const githubHook: HookProvider = {
  name: "github",
  label: "GitHub",
  signatureHeader: "x-hub-signature-256",
  deliveryHeader: "x-github-delivery",
  payload,
  read,
};
