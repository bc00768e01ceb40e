/**
 * Errors that cross the seams. Adapters translate vendor failures into these, so the domain and
 * the HTTP layer never look at SDK-specific shapes.
 */

/** Which external system failed. */
export type Dependency = "database" | "broker" | "storage" | "tagger" | "mailer";

/** A failure of an external system. `transient` says whether retrying later may succeed. */
export class DependencyError extends Error {
  constructor(
    readonly dependency: Dependency,
    message: string,
    readonly transient: boolean,
    readonly reason: string = transient ? "unavailable" : "rejected",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DependencyError";
  }
}

/**
 * What is wrong with input the client must fix: it is invalid, names nothing we know, is too
 * large, or is of a kind we do not take. The HTTP layer maps each kind to its status
 * (routes/errors.ts); the domain does not speak HTTP.
 */
export type InputProblem = "invalid" | "unknown" | "too_large" | "unsupported";

/**
 * Which message an input problem is, with its parameters, so that the HTTP layer can say it in
 * the client's language (routes/errors.ts `messageFor`; each key is one in the catalogue's
 * `errors`). `message` stays the English text, for logs and for errors without a detail.
 */
export type InputDetail =
  | { key: "descriptionRequired" | "descriptionEmpty" | "descriptionNul" | "emailRequired" | "emailInvalid" | "imageRequired" | "imageEmpty" | "unsupportedImage" }
  | { key: "descriptionTooLong"; max: number }
  | { key: "imageTooLarge"; maxBytes: number }
  /** A broken container (image/inspect): `problem` is the kind, `maxPixels` the budget it exceeded. */
  | { key: "invalidImage"; problem: "truncated" | "malformed" | "trailing_data" | "too_many_pixels"; maxPixels: number };

/** Input the client must fix. The message never echoes the input. */
export class InputError extends Error {
  constructor(
    readonly problem: InputProblem,
    readonly code: string,
    message: string,
    readonly detail?: InputDetail,
  ) {
    super(message);
    this.name = "InputError";
  }
}

/** Whether an unknown thrown value is worth retrying (unknown errors are, a bounded number of times). */
export function isTransient(err: unknown): boolean {
  if (err instanceof DependencyError) return err.transient;
  if (err instanceof InputError) return false;
  return true;
}

/** A short, log-safe description of an error. */
export function describeError(err: unknown): string {
  if (err instanceof DependencyError) return `${err.dependency}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
