// PGlite's assets and the pre-initialised data directory, imported `with { type: "file" }` by
// src/database/embedded/snapshot.ts: each imports as its path (a real path from source, a
// `/$bunfs/...` path inside the compiled executable).
declare module "*/pglite.wasm" {
  const path: string;
  export default path;
}
declare module "*/initdb.wasm" {
  const path: string;
  export default path;
}
declare module "*/pglite.data" {
  const path: string;
  export default path;
}
declare module "*/pglite-initdb.tar.gz" {
  const path: string;
  export default path;
}
