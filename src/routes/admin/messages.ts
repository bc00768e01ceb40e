/**
 * The dashboard's messages for errors the domain reports in English (for logs): said in the
 * operator's language from the catalogue's `admin` and `errors` areas.
 */
import type { OperatorError } from "../../admin/operators";
import type { InputError } from "../../domain/errors";
import { t, type Lang } from "../../i18n";

/** An operator action's input problem (a bad category or reason) in the page's language. */
export function inputMessage(lang: Lang, err: InputError): string {
  if (err.code === "invalid_category") return t(lang).errors.invalidCategory;
  if (err.code === "invalid_reason") return t(lang).errors.invalidReason(500);
  return t(lang).admin.flash.notFound;
}

/** Why a change to the team was refused, in the page's language. */
export function operatorMessage(lang: Lang, err: OperatorError): string {
  const e = t(lang).admin.operators.errors;
  switch (err.problem) {
    case "invalid_name":
      return e.invalidName;
    case "reserved_name":
      return e.reservedName;
    case "duplicate":
      return e.duplicate;
    case "unknown":
      return e.unknown;
    case "last_admin":
      return e.lastAdmin;
    case "self":
      return e.self;
    case "bad_role":
      return e.badRole;
    case "bad_lang":
      return e.badLang;
    case "weak_password":
      return e.weakPassword;
  }
}

/** The HTTP status for a refused change to the team. */
export function operatorStatus(err: OperatorError): 404 | 409 | 422 {
  if (err.problem === "unknown") return 404;
  if (err.problem === "duplicate" || err.problem === "last_admin" || err.problem === "self") return 409;
  return 422;
}
