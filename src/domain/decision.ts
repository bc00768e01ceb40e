import type { EmailDraft } from "./ad";
import { acceptedEmail, rejectedEmail, type Addressee } from "./notifications";
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
  | { state: "accepted"; category: string; vehicleConfidence: number }
  | { state: "review"; category: null; vehicleConfidence: number }
  | { state: "rejected"; category: null; vehicleConfidence: number | null };

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
  const tag = rule.vehicleTag;
  if (d.state === "accepted") return `${tag} ${d.vehicleConfidence.toFixed(1)} >= ${rule.minConfidence}`;
  if (d.vehicleConfidence === null) return `no ${tag} tag`;
  if (d.state === "review") return `${tag} ${d.vehicleConfidence.toFixed(1)} in the review band [${rule.reviewMinConfidence}, ${rule.minConfidence})`;
  return `${tag} ${d.vehicleConfidence.toFixed(1)} < ${rule.minConfidence}`;
}

/** The e-mail an automatic decision sends the poster: none while an operator reviews the ad. */
export function decisionEmail(d: Decision, ad: Addressee, publicBaseUrl: string): EmailDraft | null {
  if (d.state === "accepted") return acceptedEmail(ad, d.category, publicBaseUrl);
  if (d.state === "rejected") return rejectedEmail(ad);
  return null;
}
