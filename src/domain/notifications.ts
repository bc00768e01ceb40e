import type { EmailDraft } from "../database/ad-repository";

/** Escapes text for HTML e-mail bodies (user text is always rendered inert). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function excerpt(text: string, max = 80): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? one.slice(0, max - 1) + "…" : one;
}

/** The e-mail telling a poster their ad was accepted, with its category and a link to it. */
export function acceptedEmail(ad: { id: string; email: string; description: string }, category: string, publicBaseUrl: string): EmailDraft {
  const link = `${publicBaseUrl}/ads/${ad.id}`;
  const quote = excerpt(ad.description);
  return {
    kind: "accepted",
    to: ad.email,
    subject: `Your ad was accepted (${excerpt(category, 40)})`,
    text: `Good news: your ad "${quote}" was accepted in the category "${category}".\n\nSee it here: ${link}\n\nAd ID: ${ad.id}\n`,
    html:
      `<p>Good news: your ad &ldquo;${escapeHtml(quote)}&rdquo; was accepted in the category <strong>${escapeHtml(category)}</strong>.</p>` +
      `<p><a href="${escapeHtml(link)}">See your ad</a></p><p style="color:#666">Ad ID: ${escapeHtml(ad.id)}</p>`,
  };
}

/** The e-mail telling a poster their ad was not approved. */
export function rejectedEmail(ad: { id: string; email: string; description: string }, reason?: string): EmailDraft {
  const quote = excerpt(ad.description);
  const why = reason ?? "We could not find a vehicle in the photo.";
  return {
    kind: "rejected",
    to: ad.email,
    subject: "Your ad was not approved",
    text: `Sorry: your ad "${quote}" was not approved. ${why}\n\nAd ID: ${ad.id}\n`,
    html:
      `<p>Sorry: your ad &ldquo;${escapeHtml(quote)}&rdquo; was not approved. ${escapeHtml(why)}</p>` +
      `<p style="color:#666">Ad ID: ${escapeHtml(ad.id)}</p>`,
  };
}
