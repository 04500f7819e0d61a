// security/external-url: links in untrusted text to hosts outside the allow-list (where an injected
// instruction would send an agent, or where data would be sent).
// @req TRU-1, TRU-3
import type { ScanHit } from "./types.js";

/** `http://`, `https://` or a bare `www.` name, up to whitespace or a character a URL does not hold in prose. */
const URL_LIKE = /\b(?:https?:\/\/|www\.)[^\s<>"'`\\]+/giu;
/** Prose punctuation after a URL is not part of it (`see https://x.io/a.`). */
const TRAILING = /[.,;:!?*_~]+$/u;

export function scanExternalUrls(text: string, allowedHosts: readonly string[]): ScanHit[] {
  const hits: ScanHit[] = [];
  for (const m of text.matchAll(URL_LIKE)) {
    const url = trimUrl(m[0]);
    const host = hostOf(url);
    if (host !== null && isAllowedHost(host, allowedHosts)) continue;
    hits.push({
      rule: "security/external-url",
      start: m.index,
      end: m.index + url.length,
      message: host === null ? `unparsable URL ${url}` : `URL to ${host}, a host outside the allow-list`,
      hint: "check where it leads; if the host is yours, add it to `security.allowed_hosts` in keel/keel.yaml",
    });
  }
  return hits;
}

/** Drops trailing punctuation and a closing bracket the URL did not open (`(see https://a.io/x)`). */
function trimUrl(raw: string): string {
  let url = raw.replace(TRAILING, "");
  for (const [open, close] of [
    ["(", ")"],
    ["[", "]"],
    ["{", "}"],
  ] as const) {
    while (url.endsWith(close) && count(url, close) > count(url, open))
      url = url.slice(0, -1).replace(TRAILING, "");
  }
  return url;
}

function count(text: string, ch: string): number {
  return text.split(ch).length - 1;
}

/** The host as a browser would reach it (userinfo dropped, IDN to punycode, lower case), or null. */
export function hostOf(url: string): string | null {
  try {
    return new URL(/^www\./iu.test(url) ? `http://${url}` : url).hostname.toLowerCase() || null;
  } catch {
    return null;
  }
}

/** `acme.com` allows itself and its subdomains; `.test` allows every name under that suffix. */
export function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  const h = host.replace(/\.$/u, "");
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    if (e.startsWith(".")) return h.endsWith(e) || h === e.slice(1);
    return h === e || h.endsWith(`.${e}`);
  });
}
