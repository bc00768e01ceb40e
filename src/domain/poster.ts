/**
 * What a poster can do through the private link in their e-mails (src/domain/poster-keys.ts):
 * see their ad and its history, withdraw it (it leaves public view at once and its photo is
 * deleted), and appeal a rejection once. A wrong token is treated exactly like an unknown ad.
 */
import type { PosterRepository, PosterView } from "../database/poster-repository";
import type { Logger } from "../platform/logger";
import type { ImageStorage } from "../storage/storage";
import { InputError } from "./errors";
import type { PosterKeys } from "./poster-keys";
import { charLength, nfc } from "../i18n/text";

export interface PosterDeps {
  posters: PosterRepository;
  storage: ImageStorage;
  keys: PosterKeys;
  log: Logger;
}

export const APPEAL_NOTE_MAX = 1000;

const unknown = () => new InputError("unknown", "not_found", "Not found");

/** The ad a manage token is for, as its poster may see it; throws `unknown` for a wrong token or a purged ad. */
export async function posterView(deps: PosterDeps, token: string): Promise<PosterView> {
  const id = deps.keys.adIdOf(token);
  const view = id ? await deps.posters.view(id) : null;
  if (!view) throw unknown();
  return view;
}

/**
 * Withdraws the ad: true when this call withdrew it, false when it already was (idempotent).
 * The photo and thumbnail are deleted after the row says withdrawn; if storage fails now, the
 * daily job deletes them later (the row remembers they are still there).
 */
export async function withdrawAd(deps: PosterDeps, token: string): Promise<boolean> {
  const view = await posterView(deps, token);
  if (view.state === "withdrawn") return false;
  const keys = await deps.posters.withdraw(view.id, await posterHashOf(deps, view.id));
  if (!keys) return false; // withdrawn meanwhile by another request
  deps.log.info("ad withdrawn by its poster", { ad_id: view.id });
  await deleteImages(deps, view.id, keys);
  return true;
}

/** Deletes a withdrawn ad's photo and thumbnail, and records it; a failure is left for the daily job. */
export async function deleteImages(deps: Pick<PosterDeps, "posters" | "storage" | "log">, id: string, keys: { imageKey: string; thumbKey: string | null }): Promise<boolean> {
  try {
    await deps.storage.delete(keys.imageKey);
    if (keys.thumbKey) await deps.storage.delete(keys.thumbKey);
    await deps.posters.markImageDeleted(id);
    return true;
  } catch (err) {
    deps.log.warn("could not delete a withdrawn ad's photo yet; the daily job retries", { ad_id: id, err });
    return false;
  }
}

/** The poster's hash: stored once the worker has seen the ad, else made from the address. */
async function posterHashOf(deps: PosterDeps, id: string): Promise<string> {
  const a = await deps.posters.addressOf(id);
  if (!a) throw unknown();
  return a.poster_hash ?? deps.keys.posterHash(a.email);
}

/** Checks the poster's appeal note: 1-1000 characters (not bytes), stored as typed (NFC). */
export function validateAppealNote(raw: unknown): string {
  const note = nfc(typeof raw === "string" ? raw.trim() : "");
  if (!note) throw new InputError("invalid", "invalid_note", "note is required");
  if (charLength(note) > APPEAL_NOTE_MAX) throw new InputError("invalid", "invalid_note", `note must be at most ${APPEAL_NOTE_MAX} characters`);
  if (/\u0000/.test(note)) throw new InputError("invalid", "invalid_note", "note must not contain NUL characters");
  return note;
}

/** Appeals a rejection once; what happened ("appealed", or why not). */
export async function appealAd(deps: PosterDeps, token: string, rawNote: unknown): Promise<"appealed" | "already_appealed" | "not_rejected"> {
  const id = deps.keys.adIdOf(token);
  if (!id) throw unknown();
  const note = validateAppealNote(rawNote);
  const r = await deps.posters.appeal(id, note);
  if (r === "unknown") throw unknown();
  if (r === "appealed") deps.log.info("rejection appealed by the poster", { ad_id: id });
  return r;
}
