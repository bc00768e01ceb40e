import type { AdRepository } from "../database/ad-repository";
import type { AdRow, PublicAdRow } from "./ad";
import { t, type Lang } from "../i18n";
import { DependencyError, InputError } from "./errors";
import type { Failpoints } from "../platform/failpoints";
import type { Logger } from "../platform/logger";
import type { ServiceMetrics } from "../platform/metrics";
import type { AdPublisher } from "../queue/queue";
import type { ImageStorage, ObjectNotModified } from "../storage/storage";
import { isAdId, validateDescription, validateEmail, validateImage } from "./validation";

export interface IntakeDeps {
  repo: AdRepository;
  storage: ImageStorage;
  publisher: AdPublisher;
  log: Logger;
  metrics: ServiceMetrics;
  maxImageBytes: number;
  maxImagePixels: number;
  failpoint?: Failpoints;
  newId?: () => string;
}

export interface SubmitInput {
  description: unknown;
  email: unknown;
  image: Uint8Array | null;
  /** The poster's language (from the page or the request): the e-mails about this ad use it. */
  lang: Lang;
}

/** The key an ad's image is stored under: derived from the id only, never from client input. */
export function imageKeyFor(id: string, ext: string): string {
  return `ads/${id}.${ext}`;
}

/**
 * Registers an ad: validates everything first (so bad input changes nothing), stores the image,
 * commits the row, then publishes the id. The 201 is only given once the object and the row
 * exist. A failed publish is logged, not fatal: the ad stays undispatched and the worker's
 * scheduler publishes it once its hold (`DEFAULT_DISPATCH_HOLD_MS`) has passed and the broker
 * takes messages again.
 */
export async function submitAd(deps: IntakeDeps, input: SubmitInput): Promise<AdRow> {
  const description = validateDescription(input.description); // NFC, as stored and searched
  const email = validateEmail(input.email);
  if (!input.image) throw new InputError("invalid", "invalid_image", "image is required", { key: "imageRequired" });
  const kind = validateImage(input.image, deps.maxImageBytes, deps.maxImagePixels);

  const id = (deps.newId ?? Bun.randomUUIDv7)();
  const imageKey = imageKeyFor(id, kind.ext);
  const log = deps.log.child({ ad_id: id });
  await deps.storage.put(imageKey, input.image, kind.contentType);
  let row: AdRow;
  try {
    row = await deps.repo.insert({ id, description, email, imageKey, imageContentType: kind.contentType, imageBytes: input.image.byteLength, lang: input.lang });
  } catch (err) {
    await deps.storage.delete(imageKey).catch((e) => log.warn("orphan image left after a failed insert", { err: e, key: imageKey }));
    throw err;
  }
  await deps.failpoint?.("intake.after-commit");
  try {
    await deps.publisher.publishAdSubmitted(id);
    // Not awaited: the 201 does not wait for the bookkeeping (a lost mark costs one duplicate).
    void deps.repo.markDispatchedSoon({ id, gen: row.dispatch_gen });
  } catch (err) {
    deps.metrics.publishFailures.inc();
    log.warn("publish failed; the scheduler will dispatch the ad as soon as the broker takes it", { err });
  }
  deps.metrics.submitted.inc();
  log.info("ad submitted", { bytes: input.image.byteLength, content_type: kind.contentType, width: kind.width, height: kind.height });
  return row;
}

/** What anyone may see about an ad. Never contains the poster's e-mail. */
export interface PublicAd {
  id: string;
  state: "pending" | "accepted" | "rejected";
  message: string;
  created_at: string;
  description?: string;
  category?: string;
  image_url?: string;
  decided_at?: string;
}

/**
 * Maps a row to its public view, its `message` in `lang` (the reader's, not the poster's);
 * `failed` is shown as pending (an operator will look at it). The category stays the tag: pages
 * show it translated (`categoryLabel`).
 */
export function toPublicAd(row: PublicAdRow, lang: Lang): PublicAd {
  const messages = t(lang).status;
  const base = { id: row.id, created_at: row.created_at.toISOString() };
  if (row.state === "accepted") {
    return {
      ...base,
      state: "accepted",
      message: messages.accepted,
      description: row.description,
      category: row.category!,
      image_url: `/ads/${row.id}/image`,
      decided_at: row.decided_at?.toISOString(),
    };
  }
  if (row.state === "rejected") return { ...base, state: "rejected", message: messages.rejected };
  return { ...base, state: "pending", message: messages.pending };
}

/** Looks an ad up by its public id; null when there is no such ad (or the id is malformed). */
export async function findAd(repo: AdRepository, id: string): Promise<PublicAdRow | null> {
  if (!isAdId(id)) return null;
  return repo.getPublic(id);
}

/**
 * The image of an accepted ad, streamed from storage, or `notModified` when `ifNoneMatch` (the
 * client's If-None-Match) names its entity tag; null when the ad is unknown or not accepted.
 * The ad's state is read on every call, so a decision takes effect on the next request.
 */
export async function acceptedAdImage(repo: AdRepository, storage: ImageStorage, id: string, ifNoneMatch?: string | null): Promise<AdImage | null> {
  const row = await findAd(repo, id);
  if (!row || row.state !== "accepted") return null;
  const obj = await storage.stream(row.image_key, { ifNoneMatch });
  if (!obj) throw new DependencyError("storage", "image of an accepted ad is missing from storage", false, "missing");
  if (obj.notModified) return obj;
  return { notModified: false, body: obj.body, size: obj.size, etag: obj.etag, contentType: row.image_content_type };
}

export type AdImage = ObjectNotModified | { notModified: false; body: ReadableStream<Uint8Array>; size: number; etag: string; contentType: string };
