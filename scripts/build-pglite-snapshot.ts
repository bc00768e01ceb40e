/**
 * Writes src/assets/pglite-initdb.tar.gz: a freshly initialised PGlite data directory (initdb
 * output, no application tables), which src/database/embedded/snapshot.ts restores on the first
 * start of an empty DATA_DIR instead of running initdb in WASM (several seconds, ~0.8 GB RSS).
 * Run it again whenever @electric-sql/pglite is upgraded:  bun scripts/build-pglite-snapshot.ts
 */
import { PGlite } from "@electric-sql/pglite";
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const out = join(import.meta.dir, "..", "src", "assets", "pglite-initdb.tar.gz");
const dir = mkdtempSync(join(tmpdir(), "pglite-snapshot-"));
try {
  const t0 = performance.now();
  const db = await PGlite.create({ dataDir: join(dir, "pgdata") });
  const [{ version }] = (await db.query<{ version: string }>("select version()")).rows as [{ version: string }];
  await db.exec("checkpoint");
  const tarball = await db.dumpDataDir("gzip");
  await db.close();
  const bytes = new Uint8Array(await tarball.arrayBuffer());
  await Bun.write(`${out}.tmp`, bytes);
  renameSync(`${out}.tmp`, out);
  console.log(`${out}: ${bytes.length} bytes (${version}; initdb took ${Math.round(performance.now() - t0)} ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
