import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR } from "../doubles/imagga";

/** Bytes of a fixture photo in tests/fixtures/images. */
export function photo(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES_DIR, name)));
}
