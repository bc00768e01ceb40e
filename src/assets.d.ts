// Files embedded in the binary with `with { type: "file" }` import as their path (a real path when
// run from source, a `/$bunfs/...` path inside the compiled executable). Used by the offline tagger.
// (The model's .json needs no declaration: with resolveJsonModule tsc types it as its content,
// so offline-tagger.ts casts that import to the string it really is.)
declare module "*/models/centernet.bin" {
  const path: string;
  export default path;
}
declare module "*/tfjs-backend-wasm.wasm" {
  const path: string;
  export default path;
}
declare module "*/tfjs-backend-wasm-simd.wasm" {
  const path: string;
  export default path;
}

// pngjs ships no types (and @types/pngjs is not a dependency): the sync reader is all we use.
declare module "pngjs" {
  export interface PNGImage {
    width: number;
    height: number;
    /** RGBA, 8 bits per channel, whatever the file's colour type and depth. */
    data: Uint8Array;
  }
  export const PNG: {
    sync: { read(buffer: Uint8Array, options?: { checkCRC?: boolean; skipRescale?: boolean }): PNGImage };
  };
}
