/**
 * What the worker does with a photo besides tagging it: its perceptual hash, compared with the
 * recent ads' to catch re-posts (src/image/phash.ts, the rule in src/domain/decision.ts), and
 * once the ad is accepted, its thumbnail for the public list (src/image/thumbnail.ts).
 *
 * The hash is taken in the worker, not at intake: decoding a photo costs tens of milliseconds
 * of CPU, which the poster's 201 should not wait for; the decision is what needs it.
 */
import type { AdRow } from "../domain/ad";
import { repostOf, type Repost } from "../domain/decision";
import type { PosterKeys } from "../domain/poster-keys";
import type { PosterRepository } from "../database/poster-repository";
import { decodeImage } from "../image/decode";
import { photoHash } from "../image/phash";
import { thumbnailJpeg } from "../image/thumbnail";
import type { Logger } from "../platform/logger";
import type { ImageStorage } from "../storage/storage";

export interface PhotoChecks {
  posters: PosterRepository;
  keys: PosterKeys;
  storage: ImageStorage;
  /** REPOST_MAX_DISTANCE: photos within this many bits count as the same; 0 turns re-post detection off. */
  maxDistance: number;
  /** REPOST_WINDOW_DAYS: how far back photos are compared. */
  windowDays: number;
}

/** The thumbnail's key: derived from the id only. */
export const thumbKeyFor = (id: string) => `thumbs/${id}.jpg`;

/**
 * Hashes the photo, records the hash with the poster's (keyed) hash, and says whether it repeats
 * an earlier ad's photo. Null when detection is off or the photo cannot be decoded here.
 */
export async function findRepost(c: PhotoChecks, ad: Pick<AdRow, "id" | "email">, bytes: Uint8Array): Promise<Repost | null> {
  if (c.maxDistance <= 0) return null;
  const hash = await photoHash(bytes);
  if (hash === null) return null;
  const poster = c.keys.posterHash(ad.email);
  await c.posters.recordPhoto(ad.id, hash, poster);
  return repostOf(await c.posters.similarPhotos(ad.id, hash, poster, { maxDistance: c.maxDistance, days: c.windowDays }));
}

/**
 * Makes an accepted ad's thumbnail if it has none (from `bytes` when the caller has the photo,
 * else fetched). Never throws: without a thumbnail the public list shows the photo itself.
 */
export async function ensureThumbnail(c: PhotoChecks, ad: Pick<AdRow, "id" | "state" | "image_key" | "thumb_key">, log: Logger, bytes?: Uint8Array): Promise<void> {
  if (ad.state !== "accepted" || ad.thumb_key) return;
  try {
    const photo = bytes ?? (await c.storage.get(ad.image_key))?.bytes;
    const px = photo ? await decodeImage(photo) : null;
    if (!px) return;
    const key = thumbKeyFor(ad.id);
    await c.storage.put(key, thumbnailJpeg(px), "image/jpeg");
    await c.posters.recordThumbnail(ad.id, key);
  } catch (err) {
    log.warn("could not make the ad's thumbnail; the list shows the photo itself", { err });
  }
}
