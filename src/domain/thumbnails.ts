/**
 * Thumbnails for the public list, made once per accepted ad, on the first request for one (so
 * the worker's pipeline never waits for them, and ads nobody lists cost nothing): the photo
 * decoded, a JPEG of at most 320 px stored beside it under `thumbs/<id>.jpg`, and its key
 * recorded. Two requests at once in one process make it once.
 */
import type { PosterRepository } from "../database/poster-repository";
import { decodeImage } from "../image/decode";
import { thumbnailJpeg } from "../image/thumbnail";
import type { Logger } from "../platform/logger";
import type { ImageStorage } from "../storage/storage";

export interface ThumbnailDeps {
  posters: PosterRepository;
  storage: ImageStorage;
  log: Logger;
}

/** The thumbnail's key: derived from the id only. */
export const thumbKeyFor = (id: string) => `thumbs/${id}.jpg`;

const making = new Map<string, Promise<Uint8Array | null>>();

/**
 * The accepted ad's thumbnail bytes, made now if it has none: null when the ad is not accepted;
 * `bytes` null when its photo cannot be decoded here (then the photo itself stands in).
 */
export async function thumbnailOf(deps: ThumbnailDeps, id: string): Promise<{ bytes: Uint8Array | null; made: boolean } | null> {
  const ad = await deps.posters.acceptedPhoto(id);
  if (!ad) return null;
  if (ad.thumb_key) {
    const obj = await deps.storage.get(ad.thumb_key);
    if (obj) return { bytes: obj.bytes, made: false };
  }
  let pending = making.get(id);
  if (!pending) {
    pending = make(deps, id, ad.image_key).finally(() => making.delete(id));
    making.set(id, pending);
  }
  return { bytes: await pending, made: true };
}

async function make(deps: ThumbnailDeps, id: string, imageKey: string): Promise<Uint8Array | null> {
  const photo = await deps.storage.get(imageKey);
  const px = photo ? await decodeImage(photo.bytes).catch(() => null) : null;
  if (!px) return null;
  const bytes = thumbnailJpeg(px);
  const key = thumbKeyFor(id);
  await deps.storage.put(key, bytes, "image/jpeg");
  await deps.posters.recordThumbnail(id, key);
  deps.log.debug("thumbnail made", { ad_id: id, bytes: bytes.length });
  return bytes;
}
