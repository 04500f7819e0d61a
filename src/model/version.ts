// Which Keel this is. Caches (the index's per-file analyses, the stored validation result, the query
// tables) are keyed on BUILD_ID, so a Keel whose code changed never replays results computed by another.
declare const KEEL_VERSION: string;
declare const KEEL_BUILD: string;

export const VERSION = typeof KEEL_VERSION === "string" ? KEEL_VERSION : "0.0.0-dev";
/** Set by scripts/build.mjs to a hash of the sources; "dev" when running unbundled (tests of the core). */
export const BUILD_ID = `${VERSION}+${typeof KEEL_BUILD === "string" ? KEEL_BUILD : "dev"}`;
