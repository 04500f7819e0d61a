// The throwaway PostgreSQL cluster of scripts/pg-cluster.mjs (shared with the team bench), typed by its .d.mts.
// Tests skip, saying so, where the binaries are absent.
import { HAS_POSTGRES, NO_POSTGRES } from "../../scripts/pg-cluster.mjs";

export { HAS_POSTGRES, PG_BIN, type PgCluster, startPostgres } from "../../scripts/pg-cluster.mjs";

if (!HAS_POSTGRES) console.warn(`postgres tests skipped: ${NO_POSTGRES}`);
