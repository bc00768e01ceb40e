/**
 * The e-mails a poster receives, in the language they posted in (the ad's `lang`): subject, plain
 * text and HTML, from the catalogue (src/i18n). A Persian e-mail is right to left, names the
 * category in Persian (the stored category stays the tagger's tag) and dates in the Solar Hijri
 * calendar with Persian digits.
 */
import { categoryLabel, dir, t, type Lang } from "../i18n";
import { formatDate } from "../i18n/format";
import type { AdRow, EmailDraft } from "./ad";

/** Where an e-mail's links point: the public ad page, and the poster's private manage page. */
export interface PosterLinks {
  publicBaseUrl: string;
  /** The manage page of an ad (src/domain/poster-keys.ts); absent: the e-mails carry no private link. */
  manageUrl?: (adId: string) => string;
}

/** What an e-mail needs to know about its ad. */
export type Addressee = Pick<AdRow, "id" | "email" | "description" | "lang"> & { created_at?: Date };

/** Escapes text for HTML e-mail bodies (user text is always rendered inert). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function excerpt(text: string, max = 80): string {
  const one = text.replace(/\s+/g, " ").trim();
  const chars = [...one];
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : one;
}

/** The closing lines both e-mails share: the ad's id and, when known, when it was submitted. */
function footer(ad: Addressee): string[] {
  const s = t(ad.lang).email;
  return [s.adIdLabel(ad.id), ...(ad.created_at ? [s.submittedOn(formatDate(ad.lang, ad.created_at))] : [])];
}

/** The HTML body: the document's direction and language, the poster's text isolated (`<bdi>`), a muted footer. */
function html(lang: Lang, paragraphs: string[], foot: string[]): string {
  return (
    `<div dir="${dir(lang)}" lang="${lang}">` +
    paragraphs.map((p) => `<p>${p}</p>`).join("") +
    `<p style="color:#666">${foot.map(escapeHtml).join("<br>")}</p></div>`
  );
}

/** The private-link paragraph: its lead in text and HTML, or nothing. */
function manageParagraph(lead: string, url: string | undefined): { text: string; html: string[] } {
  if (!url) return { text: "", html: [] };
  return { text: `${lead}\n${url}\n\n`, html: [`${escapeHtml(lead)}<br><a href="${escapeHtml(url)}" dir="ltr">${escapeHtml(url)}</a>`] };
}

/** The e-mail telling a poster their ad was accepted, with its category, a link to it and the private manage link. */
export function acceptedEmail(ad: Addressee, category: string, links: PosterLinks): EmailDraft {
  const s = t(ad.lang).email;
  const link = `${links.publicBaseUrl}/ads/${ad.id}`;
  const manage = manageParagraph(s.manageAccepted, links.manageUrl?.(ad.id));
  const quote = excerpt(ad.description);
  const label = excerpt(categoryLabel(ad.lang, category), 40);
  const foot = footer(ad);
  return {
    kind: "accepted",
    to: ad.email,
    subject: s.acceptedSubject(label),
    text: `${s.acceptedLead(quote, label)}\n\n${s.seeYourAd}: ${link}\n\n${manage.text}${foot.join("\n")}\n`,
    html: html(
      ad.lang,
      [s.acceptedLead(`<bdi>${escapeHtml(quote)}</bdi>`, `<strong>${escapeHtml(label)}</strong>`), `<a href="${escapeHtml(link)}" dir="ltr">${escapeHtml(s.seeYourAd)}</a>`, ...manage.html],
      foot,
    ),
  };
}

/**
 * The e-mail telling a poster their ad was not approved, with the private link to appeal. Without
 * a reason, the rule's own (no vehicle found) in the poster's language.
 */
export function rejectedEmail(ad: Addressee, reason?: string, links?: PosterLinks): EmailDraft {
  const s = t(ad.lang).email;
  const manage = manageParagraph(s.manageRejected, links?.manageUrl?.(ad.id));
  const quote = excerpt(ad.description);
  const why = reason ?? s.defaultRejectReason;
  const foot = footer(ad);
  return {
    kind: "rejected",
    to: ad.email,
    subject: s.rejectedSubject,
    text: `${s.rejectedLead(quote, why)}\n\n${manage.text}${foot.join("\n")}\n`,
    html: html(ad.lang, [s.rejectedLead(`<bdi>${escapeHtml(quote)}</bdi>`, escapeHtml(why)), ...manage.html], foot),
  };
}
