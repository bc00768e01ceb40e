/**
 * The ad and its e-mails as the domain sees them: the states an ad moves through, its row, the
 * e-mail drafts a decision produces, and the record of a decision. The repositories read and
 * write these; the rule (decision.ts), intake (ads.ts), the handler and moderation use them.
 */
import type { Lang } from "../i18n";
import type { Tag } from "../tagger/tagger";

export type AdState = "pending" | "review" | "accepted" | "rejected" | "failed" | "withdrawn";

/** What went wrong in a processing step, as recorded for operators. */
export interface ErrorFacts {
  provider: string;
  reason: string;
  transient: boolean;
  message: string;
}

export interface AdRow {
  id: string;
  description: string;
  email: string;
  image_key: string;
  image_content_type: string;
  image_bytes: number;
  state: AdState;
  /** The poster's language: every e-mail about the ad is written in it. */
  lang: Lang;
  category: string | null;
  tags: Tag[] | null;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  updated_at: Date;
  dispatched_at: Date | null;
  dispatch_gen: number;
  lease_owner: string | null;
  processing_starts: number;
  /** The small JPEG for the public list, once made. */
  thumb_key?: string | null;
  /** The earlier ad whose photo this one repeats, when one was found. */
  copy_of?: string | null;
  /** The poster's appeal of a rejection, and when. */
  appeal_note?: string | null;
  appealed_at?: Date | null;
}

/** The columns the public routes read. */
export type PublicAdRow = Pick<AdRow, "id" | "state" | "description" | "category" | "image_key" | "image_content_type" | "created_at" | "decided_at">;

export interface NewAd {
  id: string;
  description: string;
  email: string;
  imageKey: string;
  imageContentType: string;
  imageBytes: number;
  lang: Lang;
}

export interface EmailDraft {
  kind: "accepted" | "rejected";
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface EmailRow {
  id: string;
  ad_id: string;
  kind: "accepted" | "rejected";
  to_address: string;
  subject: string;
  body_text: string;
  body_html: string;
  status: "queued" | "sending" | "sent" | "failed" | "superseded";
  lease_owner: string | null;
  attempts: number;
  provider_id: string | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface DecisionRecord {
  state: "accepted" | "rejected" | "review";
  category: string | null;
  tags: Tag[];
  actor: string;
  reason: string;
  /** The e-mail announcing the decision; null when there is none yet (held for review). */
  email: EmailDraft | null;
  /** The earlier ad whose photo this one repeats (re-post detection). */
  copyOf?: string | null;
}
