import { Html } from "@kitajs/html";

/**
 * An arrow that points along the reading direction: "forward" points to where the next line
 * starts (right in English), "back" the other way. The glyph is drawn for left to right; the
 * stylesheet mirrors `.icon-arrow` on right-to-left pages, so it points the right way in Persian.
 */
export function Arrow({ to }: { to: "forward" | "back" }): string {
  return (
    <span class={`icon-arrow icon-arrow-${to}`} aria-hidden="true">
      {to === "forward" ? "→" : "←"}
    </span>
  ) as string;
}
