/**
 * Opens PGlite on its data directory (`dir/pgdata`); on a first start, fills it from the shipped
 * pre-initialised snapshot (src/assets/pglite-initdb.tar.gz, written by
 * scripts/build-pglite-snapshot.ts) instead of running initdb.
 *
 * Why: initdb in WASM takes 6-7 s (up to 30 s on a loaded machine) and ~0.8 GB RSS; restoring the
 * snapshot takes ~1.3 s. A snapshot that does not load (another PGlite version) falls back to
 * initdb. `pgdata/.ad-service-ready` is written once a first start completed: a `pgdata` without
 * it is a first start that crashed, so it is wiped and redone.
 *
 * PGlite's WASM, its file-system bundle and the snapshot are imported `with { type: "file" }`, so
 * `bun build --compile` embeds them and this works from source and inside the single binary.
 */
import { PGlite } from "@electric-sql/pglite";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import initdbWasmPath from "../../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" };
import pgliteDataPath from "../../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" };
import pgliteWasmPath from "../../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" };
import snapshotPath from "../../assets/pglite-initdb.tar.gz" with { type: "file" };
import type { Logger } from "../../platform/logger";

const READY_MARK = ".ad-service-ready";

/**
 * Opens PGlite on `pgdata`, creating it on a first start (or after an unfinished one). `fresh`
 * says whether this was a first start. On failure nothing is left open.
 */
export async function openDataDir(pgdata: string, log?: Logger): Promise<{ db: PGlite; fresh: boolean }> {
  const fresh = !existsSync(join(pgdata, READY_MARK));
  if (fresh && existsSync(pgdata)) {
    log?.warn("embedded database: removing an unfinished first start", { dir: pgdata });
    rmSync(pgdata, { recursive: true, force: true });
  }
  const db = await openPglite(pgdata, fresh, log);
  if (fresh) {
    try {
      writeFileSync(join(pgdata, READY_MARK), `${new Date().toISOString()}\n`);
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
  }
  return { db, fresh };
}

/** Compiles PGlite's WASM from the embedded files, once per process. */
let modules: Promise<{ pglite: WebAssembly.Module; initdb: WebAssembly.Module }> | null = null;
function wasmModules() {
  modules ??= (async () => {
    const [pglite, initdb] = await Promise.all([
      WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
      WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
    ]);
    return { pglite, initdb };
  })();
  return modules;
}

async function openPglite(pgdata: string, fresh: boolean, log?: Logger): Promise<PGlite> {
  const { pglite, initdb } = await wasmModules();
  const base = { dataDir: pgdata, pgliteWasmModule: pglite, initdbWasmModule: initdb, fsBundle: Bun.file(pgliteDataPath) };
  if (!fresh) return PGlite.create(base);
  const snapshot = Bun.file(snapshotPath);
  if (snapshot.size > 0) {
    try {
      return await PGlite.create({ ...base, loadDataDir: snapshot });
    } catch (err) {
      // A snapshot from another PGlite version: fall back to a (slow) initdb.
      log?.warn("embedded database: the shipped snapshot did not load; running initdb", { err: String(err) });
      rmSync(pgdata, { recursive: true, force: true });
    }
  }
  log?.info("embedded database: first start, running initdb (several seconds)");
  return PGlite.create(base);
}
