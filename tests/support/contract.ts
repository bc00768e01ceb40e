/**
 * Contract checks: every answer an API test receives must be one the API document
 * (`/swagger/json`, as the app serves it) describes — a documented status of a documented
 * operation, a documented media type, the documented required headers, and a body that matches
 * the schema. Objects are checked closed: a field the document does not name fails (the
 * document is the whole public view; nothing undocumented, such as the poster's e-mail, may
 * leak). Browser answers (HTML for `Accept: text/html` or htmx) are not part of the document.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

type Json = Record<string, unknown>;
interface MediaType {
  schema?: Json;
}
interface HeaderDoc {
  required?: boolean;
  schema?: Json;
}
interface ResponseDoc {
  description?: string;
  headers?: Record<string, HeaderDoc>;
  content?: Record<string, MediaType>;
}
interface OperationDoc {
  responses?: Record<string, ResponseDoc>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
  components?: { schemas?: Record<string, Json> };
}

export class ContractError extends Error {
  override name = "ContractError";
}

export interface Answer {
  status: number;
  /** The Content-Type header (null when the answer has none). */
  contentType?: string | null;
  headers?: Headers;
  /** The parsed JSON body, or the text of a text body; undefined when not read (binary). */
  body?: unknown;
  /** True when the answer has no body at all. */
  empty?: boolean;
}

// The document's shared schemas live under this id (as `$defs`), so that `$ref`s resolve.
const DOC = "openapi:components";
const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** `type/subtype`, lower-case, without parameters. */
const essence = (mediaType: string) => mediaType.split(";")[0]!.trim().toLowerCase();
const mediaMatches = (range: string, actual: string) => {
  const r = essence(range);
  return r === actual || r === "*/*" || (r.endsWith("/*") && actual.startsWith(r.slice(0, -1)));
};
const isJson = (mediaType: string) => /^application\/(.+\+)?json$/.test(essence(mediaType));
const isText = (mediaType: string) => essence(mediaType).startsWith("text/");

/**
 * The schema with every object that names its properties, and says nothing about others,
 * closed (`additionalProperties: false`). Branches of an `allOf` stay open (closing them would
 * refuse each other's fields).
 */
function closed(schema: unknown, inAllOf = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => closed(s, inAllOf));
  if (!schema || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === "properties" || k === "patternProperties" || k === "$defs") {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([name, s]) => [name, closed(s)]));
    } else if (k === "allOf") out[k] = (v as unknown[]).map((s) => closed(s, true));
    else if (k === "anyOf" || k === "oneOf" || k === "prefixItems") out[k] = (v as unknown[]).map((s) => closed(s));
    else if (k === "items" || k === "additionalProperties" || k === "not" || k === "if" || k === "then" || k === "else") out[k] = closed(v);
    else if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")) out[k] = `${DOC}#/$defs/${v.slice(21)}`;
    else out[k] = v;
  }
  const o = schema as Json;
  if (!inAllOf && o.properties && !("additionalProperties" in o) && !("patternProperties" in o) && !("unevaluatedProperties" in o)) out.additionalProperties = false;
  return out;
}

export interface ContractOptions {
  /** Paths that are not API operations (pages, the docs themselves): their answers are not checked. */
  outside?: Array<string | RegExp>;
}

/** Checks answers against one API document. */
export class Contract {
  /** Answers checked, by "METHOD /template status". */
  readonly tally = new Map<string, number>();
  /** Answers passed over: browser (HTML) answers and paths outside the API. */
  skipped = 0;
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: Array<{ template: string; re: RegExp }>;

  constructor(
    readonly document: OpenApiDocument,
    private readonly options: ContractOptions = {},
  ) {
    if (!/^3\.1\./.test(document.openapi)) throw new ContractError(`expected an OpenAPI 3.1 document, got ${document.openapi}`);
    this.ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addFormat("binary", true);
    // OpenAPI's own schema keywords (annotations for the validator).
    this.ajv.addVocabulary(["discriminator", "xml", "externalDocs", "example"]);
    this.ajv.addSchema({ $id: DOC, $defs: closed(document.components?.schemas ?? {}) as Json });
    this.templates = Object.keys(document.paths).map((template) => ({
      template,
      re: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}/]+\}/g, "[^/]+")}$`),
    }));
  }

  /** Total answers checked. */
  get checked(): number {
    let n = 0;
    for (const v of this.tally.values()) n += v;
    return n;
  }

  /** The documented path template a concrete path (or a template) falls under, or null. */
  templateFor(path: string): string | null {
    if (path in this.document.paths) return path;
    return this.templates.find((t) => t.re.test(path))?.template ?? null;
  }

  /**
   * Validates one answer of `method pathTemplate`: throws a ContractError when the operation or
   * the status is undocumented, the media type or a required header is not the documented one,
   * or the body does not match the schema.
   */
  validate(method: string, pathTemplate: string, answer: Answer): void {
    const where = `${method.toUpperCase()} ${pathTemplate} → ${answer.status}`;
    const item = this.document.paths[pathTemplate];
    if (!item) throw new ContractError(`${where}: the path is not in the API document`);
    const op = item[method.toLowerCase()];
    if (!op || !HTTP_METHODS.has(method.toLowerCase())) throw new ContractError(`${where}: the operation is not in the API document`);
    const responses = op.responses ?? {};
    const code = String(answer.status);
    const key = code in responses ? code : `${code[0]}XX` in responses ? `${code[0]}XX` : "default" in responses ? "default" : null;
    if (!key) throw new ContractError(`${where}: status ${code} is not documented (documented: ${Object.keys(responses).join(", ") || "none"})`);
    const doc = responses[key]!;

    for (const [name, header] of Object.entries(doc.headers ?? {})) {
      if (name.toLowerCase() === "content-type") continue;
      const value = answer.headers?.get(name) ?? null;
      if (value === null) {
        if (header.required && answer.headers) throw new ContractError(`${where}: the required header ${name} is missing`);
        continue;
      }
      if (header.schema) this.match(`${where} header ${name}`, header.schema, value);
    }

    const content = doc.content ?? {};
    const ranges = Object.keys(content);
    if (ranges.length === 0) {
      if (answer.empty === false) throw new ContractError(`${where}: the document says no body, the answer has one`);
      this.count(`${method.toUpperCase()} ${pathTemplate} ${code}`);
      return;
    }
    if (!answer.contentType) {
      if (answer.empty) throw new ContractError(`${where}: the document promises ${ranges.join(" or ")}, the answer has no body`);
      throw new ContractError(`${where}: the answer has no Content-Type (documented: ${ranges.join(", ")})`);
    }
    const actual = essence(answer.contentType);
    const range = ranges.find((r) => essence(r) === actual) ?? ranges.find((r) => mediaMatches(r, actual));
    if (!range) throw new ContractError(`${where}: Content-Type ${answer.contentType} is not documented (documented: ${ranges.join(", ")})`);
    const schema = content[range]!.schema;
    if (schema && (isJson(actual) || isText(actual))) {
      if (answer.body === undefined) throw new ContractError(`${where}: the body was not read, so it cannot be checked`);
      this.match(where, schema, answer.body);
    }
    this.count(`${method.toUpperCase()} ${pathTemplate} ${code}`);
  }

  /**
   * Checks a Response (read from a clone: the caller's Response is untouched and returned) to
   * `method path`, where `path` is a concrete path or a template. `request`, when given, tells
   * browser requests apart: their HTML answers are not part of the API document.
   */
  async checkResponse(method: string, path: string, res: Response, request?: Request): Promise<Response> {
    const contentType = res.headers.get("content-type");
    if (request && contentType && essence(contentType) === "text/html" && isBrowserRequest(request)) {
      this.skipped++;
      return res;
    }
    const template = this.templateFor(path);
    if (!template) {
      if (this.options.outside?.some((o) => (typeof o === "string" ? o === path : o.test(path)))) {
        this.skipped++;
        return res;
      }
      throw new ContractError(`${method.toUpperCase()} ${path} → ${res.status}: the path is not in the API document`);
    }
    let body: unknown;
    let empty: boolean | undefined;
    if (res.body === null) empty = true;
    else if (!contentType) empty = (await res.clone().arrayBuffer()).byteLength === 0;
    else if (isJson(contentType) || isText(contentType)) {
      const text = await res.clone().text();
      empty = text.length === 0;
      if (!empty) {
        try {
          body = isJson(contentType) ? JSON.parse(text) : text;
        } catch {
          throw new ContractError(`${method.toUpperCase()} ${template} → ${res.status}: the body is not the JSON its Content-Type says`);
        }
      }
    }
    this.validate(method, template, { status: res.status, contentType, headers: res.headers, body, empty });
    return res;
  }

  /** Checks the answer to `request` (its method and path pick the operation); returns the answer. */
  check(request: Request, res: Response): Promise<Response> {
    return this.checkResponse(request.method, new URL(request.url).pathname, res, request);
  }

  private match(where: string, schema: Json, value: unknown): void {
    const validate = this.validator(schema);
    if (!validate(value)) {
      const errors = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`);
      throw new ContractError(`${where}: the answer does not match the API document: ${errors.join("; ")}\n${JSON.stringify(value).slice(0, 500)}`);
    }
  }

  private validator(schema: Json): ValidateFunction {
    const id = JSON.stringify(schema);
    let v = this.validators.get(id);
    if (!v) {
      v = this.ajv.compile(closed(schema) as Json);
      this.validators.set(id, v);
    }
    return v;
  }

  private count(key: string) {
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
  }
}

/** A browser's request: htmx, or an Accept header that asks for HTML. */
function isBrowserRequest(request: Request): boolean {
  return request.headers.get("hx-request") === "true" || /text\/html/i.test(request.headers.get("accept") ?? "");
}

/** The contract of the API document an app serves at /swagger/json. */
export async function loadContract(app: { handle(request: Request): Promise<Response> }, options: ContractOptions = {}): Promise<Contract> {
  const res = await app.handle(new Request("http://localhost/swagger/json"));
  if (res.status !== 200) throw new ContractError(`GET /swagger/json → ${res.status}`);
  return new Contract((await res.json()) as OpenApiDocument, options);
}
