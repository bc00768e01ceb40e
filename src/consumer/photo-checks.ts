/**
 * What the worker does with a photo besides tagging it: its perceptual hash, compared with the
 * recent ads' to catch re-posts (src/image/phash.ts, the rule in src/domain/decision.ts).
 * (Thumbnails are made on first request, by src/domain/thumbnails.ts.)
 *
 * The hash is taken in the worker, not at intake: decoding a photo costs tens of milliseconds
 * of CPU, which the poster's 201 should not wait for; the decision is what needs it.
 */
import type { AdRow } from "../domain/ad";
import { repostOf, type Repost } from "../domain/decision";
import type { PosterKeys } from "../domain/poster-keys";
import type { PosterRepository } from "../database/poster-repository";
import { photoHash } from "../image/phash";

export interface PhotoChecks {
  posters: PosterRepository;
  keys: PosterKeys;
  /** REPOST_MAX_DISTANCE: photos within this many bits count as the same; 0 turns re-post detection off. */
  maxDistance: number;
  /** REPOST_WINDOW_DAYS: how far back photos are compared. */
  windowDays: number;
}

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
