import type { EmailDraft } from "./ad";
import { acceptedEmail, rejectedEmail, type Addressee, type PosterLinks } from "./notifications";
import type { Tag } from "../tagger/tagger";

export interface DecisionRule {
  /** The tag that means "this is a vehicle" (default `vehicle`). */
  vehicleTag: string;
  /** Minimum confidence (0-100) of that tag for acceptance; the boundary is inclusive. */
  minConfidence: number;
  /**
   * Optional human-review band: a vehicle confidence at least this but under `minConfidence`
   * holds the ad for an operator instead of rejecting it. Off (undefined) by default.
   */
  reviewMinConfidence?: number;
}

export type Decision =
  | { state: "accepted"; category: string; vehicleConfidence: number; repost?: Repost }
  | { state: "review"; category: null; vehicleConfidence: number | null; repost?: Repost }
  | { state: "rejected"; category: null; vehicleConfidence: number | null; repost?: Repost };

/**
 * What the photo's perceptual hash says about earlier ads (src/image/phash.ts): a copy of another
 * poster's photo, a duplicate of the same poster's ad that is still up, or the same poster
 * posting again an ad of theirs that was withdrawn, rejected or failed.
 */
export type Repost =
  | { kind: "copy"; of: string; distance: number }
  | { kind: "duplicate"; of: string; distance: number }
  | { kind: "own_repost"; of: string; distance: number };

/** An earlier ad whose photo is within the threshold of this one's (nearest first). */
export interface PhotoMatch {
  id: string;
  state: string;
  samePoster: boolean;
  distance: number;
}

/** Re-posts, from the nearest earlier photos: another poster's first, then the same poster's. */
export function repostOf(matches: readonly PhotoMatch[]): Repost | null {
  const other = matches.find((m) => !m.samePoster);
  if (other) return { kind: "copy", of: other.id, distance: other.distance };
  const own = matches.find((m) => m.samePoster);
  if (!own) return null;
  const gone = own.state === "withdrawn" || own.state === "rejected" || own.state === "failed";
  return { kind: gone ? "own_repost" : "duplicate", of: own.id, distance: own.distance };
}

/**
 * The rule's decision, seen next to re-posts: a copy of another poster's photo goes to an
 * operator instead of being accepted. The same poster posting their own photo again (what they
 * withdrew or had rejected, or a second listing) is decided as usual, and noted. A photo the rule
 * rejects stays rejected (there is no vehicle to protect).
 */
export function withReposts(d: Decision, repost: Repost | null): Decision {
  if (!repost) return d;
  if (d.state === "rejected" || repost.kind !== "copy") return { ...d, repost };
  return { state: "review", category: null, vehicleConfidence: d.vehicleConfidence, repost };
}

/**
 * The brief's rule: accepted when the vehicle tag's confidence is at least the minimum, and then
 * the highest-confidence tag (whatever it is) becomes the category; otherwise rejected.
 */
export function decideFromTags(tags: readonly Tag[], rule: DecisionRule): Decision {
  const wanted = rule.vehicleTag.toLowerCase();
  let vehicle: number | null = null;
  let top: Tag | null = null;
  for (const t of tags) {
    if (!Number.isFinite(t.confidence)) continue;
    if (t.name.toLowerCase() === wanted) vehicle = Math.max(vehicle ?? -Infinity, t.confidence);
    if (!top || t.confidence > top.confidence) top = t;
  }
  if (vehicle !== null && vehicle >= rule.minConfidence && top) {
    return { state: "accepted", category: top.name, vehicleConfidence: vehicle };
  }
  if (vehicle !== null && rule.reviewMinConfidence !== undefined && vehicle >= rule.reviewMinConfidence) {
    return { state: "review", category: null, vehicleConfidence: vehicle };
  }
  return { state: "rejected", category: null, vehicleConfidence: vehicle };
}

/** Why the rule decided what it did, in the words the history and the dashboard show. */
export function decisionReason(d: Decision, rule: DecisionRule): string {
  const r = d.repost;
  if (r?.kind === "copy" && d.state === "review") return `possible copy of ${r.of} (photo distance ${r.distance})`;
  const base = ruleReason(d, rule);
  if (r?.kind === "own_repost") return `${base}; re-post of the poster's own ad ${r.of}`;
  if (r?.kind === "duplicate") return `${base}; same photo as the poster's ad ${r.of}`;
  if (r?.kind === "copy") return `${base}; photo also in ${r.of}`;
  return base;
}

function ruleReason(d: Decision, rule: DecisionRule): string {
  const tag = rule.vehicleTag;
  if (d.state === "accepted") return `${tag} ${d.vehicleConfidence.toFixed(1)} >= ${rule.minConfidence}`;
  if (d.vehicleConfidence === null) return `no ${tag} tag`;
  if (d.state === "review") return `${tag} ${d.vehicleConfidence.toFixed(1)} in the review band [${rule.reviewMinConfidence}, ${rule.minConfidence})`;
  return `${tag} ${d.vehicleConfidence.toFixed(1)} < ${rule.minConfidence}`;
}

/** The e-mail an automatic decision sends the poster: none while an operator reviews the ad. */
export function decisionEmail(d: Decision, ad: Addressee, links: PosterLinks): EmailDraft | null {
  if (d.state === "accepted") return acceptedEmail(ad, d.category, links);
  if (d.state === "rejected") return rejectedEmail(ad, undefined, links);
  return null;
}
