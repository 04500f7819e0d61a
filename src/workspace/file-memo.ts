// Parsed files, kept by a long-lived process (`keel serve`, `keel mcp`) so that a file whose size and change
// stamp are what they were when it was parsed is neither read nor parsed again. A stamp within the racy window
// of the moment it was seen is not trusted (the file may change again without its stamp moving): such a file
// is parsed every time, as the index does (discover.ts). Callers share the cached value, so they must treat it
// as read-only.
// @req SRF-16
import { RACY_WINDOW_MS } from "./discover.js";

export class FileMemo<T> {
  private readonly entries = new Map<string, { size: number; stamp: number; value: T }>();

  constructor(private readonly racyWindowMs = RACY_WINDOW_MS) {}

  get(abs: string, size: number, stamp: number): T | undefined {
    const e = this.entries.get(abs);
    return e !== undefined && e.size === size && e.stamp === stamp ? e.value : undefined;
  }

  /** Keeps `value` for the file as it was seen (size, stamp), unless the stamp is too recent to trust. */
  set(abs: string, size: number, stamp: number, value: T, now = Date.now()): void {
    if (now - stamp <= this.racyWindowMs) this.entries.delete(abs);
    else this.entries.set(abs, { size, stamp, value });
  }
}
