import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { findUnstorableText, MAX_BODY_DEPTH, pointerSegment, type ValueProblem } from '../domain/storable-values.js';
import { MAX_REPORTED_ERRORS } from './validation.js';

/**
 * The HTTP edge's check of what storage can represent (domain/storable-values.ts), so no route
 * can forget it and SQLite and PostgreSQL answer the same:
 *
 * - every path parameter, query parameter (raw percent-encoding included), body string and
 *   object key, and HTTP Basic client credential: no NUL, no lone surrogate → 400;
 * - a body in a charset other than UTF-8 → 415; a body that is not valid UTF-8 → 400 (RFC 8259
 *   §8.1 and the form encoding both mean UTF-8; decoding with replacement characters would
 *   silently change the text);
 * - JSON bodies: at most MAX_BODY_DEPTH levels and no integer literal beyond ±(2^53 − 1), both
 *   checked on the text before it is parsed (parseJsonBody).
 *
 * Problems are reported like schema validation problems (`request.validation_failed`, or
 * `invalid_request` on the OAuth endpoints), field by field.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preParsing', async (request) => {
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    // Compressed request bodies are not decoded (RFC 9110 §8.4): say so rather than call the
    // compressed bytes "not UTF-8".
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (hasBody && encoding && encoding !== 'identity') {
      throw new AppError('request.unsupported_media_type', `Request bodies must not be compressed: Content-Encoding ${JSON.stringify(clip(encoding))} is not supported; send the body as is.`);
    }
    const charset = hasBody ? charsetOf(request.headers['content-type']) : undefined;
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      throw new AppError('request.unsupported_media_type', `Request bodies must be UTF-8 (RFC 8259 §8.1); send charset=utf-8 or no charset, not ${JSON.stringify(charset)}.`);
    }
    if (hasBody && request.method !== 'GET' && request.method !== 'HEAD') checkMediaType(request);
  });

  app.addHook('preValidation', async (request) => {
    const problems: { context: string; problem: ValueProblem }[] = [];
    let total = 0;
    const check = (context: string, value: unknown) => {
      const found = findUnstorableText(value, MAX_REPORTED_ERRORS);
      total += found.total;
      problems.push(...found.problems.map((problem) => ({ context, problem })));
    };
    check('params', request.params);
    check('querystring', request.query);
    for (const problem of rawQueryProblems(request.url)) {
      total++;
      problems.push({ context: 'querystring', problem });
    }
    check('headers', basicCredentials(request));
    if (!textCheckedBodies.has(request)) check('body', request.body);
    if (total > 0) throw inputError(problems.slice(0, MAX_REPORTED_ERRORS).map((p) => ({ ...p.problem, context: p.context })), total);
  });
}

/** What a route takes unless its config says otherwise: JSON, and on PATCH also JSON Merge Patch (RFC 7396). */
const JSON_TYPES: readonly string[] = ['application/json'];
const PATCH_TYPES: readonly string[] = ['application/json', 'application/merge-patch+json'];

/** The media types a route accepts for a request body (its `config.bodyTypes`, or JSON). */
export function acceptedBodyTypes(request: FastifyRequest): readonly string[] {
  return request.routeOptions.config?.bodyTypes ?? (request.method === 'PATCH' ? PATCH_TYPES : JSON_TYPES);
}

/**
 * A body must say what it is, and be what the route takes: a missing Content-Type (or curl -d's
 * default, a form) is never guessed at, since a form parsed as fields makes a JSON text an
 * "unknown field" and `email=x` a user. Body-less requests (action POSTs) are not checked.
 * Routes that are not found keep their 404.
 */
function checkMediaType(request: FastifyRequest): void {
  if (request.is404) return;
  const accepted = acceptedBodyTypes(request);
  const header = request.headers['content-type'];
  const type = header?.split(';')[0]?.trim().toLowerCase();
  if (type !== undefined && type !== '' && accepted.includes(type)) return;
  const list = accepted.join(' or ');
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
  const hint = type === 'application/x-www-form-urlencoded' && !accepted.includes(type) ? " (curl -d sends a form unless told otherwise: add -H 'Content-Type: application/json')" : '';
  const sent = type ? `not ${type}${hint}` : 'but the request has a body and no Content-Type';
  throw new AppError('request.unsupported_media_type', `${route} takes a body of type ${list}, ${sent}.`, [
    { field: '/headers/content-type', message: `must be ${list}` },
  ]);
}

/**
 * JSON body parser: strict UTF-8, then the text checks (depth, unsafe integers), then Fastify's
 * own parser (which refuses prototype-poisoning keys). An empty body means "no body": many
 * clients send Content-Type: application/json on every request, GET included.
 */
export function jsonBodyParser(parseJson: (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) => void) {
  return (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void): void => {
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      done(new AppError('request.malformed_json', 'The body is not valid UTF-8 (RFC 8259 §8.1). Send JSON text encoded as UTF-8.'));
      return;
    }
    if (text === '') {
      done(null, undefined);
      return;
    }
    const problem = scanJsonText(text);
    if (problem) {
      done(inputError([{ ...problem, context: 'body' }], 1));
      return;
    }
    if (!MAY_ESCAPE_UNSTORABLE.test(text)) textCheckedBodies.add(request);
    parseJson(request, text, done);
  };
}

/**
 * Form body parser (application/x-www-form-urlencoded, the OAuth endpoints): every name and
 * value must be percent-encoded UTF-8. A raw U+FFFD in the text is what undecodable bytes became
 * (a real U+FFFD arrives percent-encoded), and a bad escape such as %FF would otherwise be kept
 * as the three characters "%FF": both are refused rather than altered.
 */
export function parseFormText(text: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (text.includes('\ufffd')) throw inputError([{ context: 'body', pointer: '', message: 'must be UTF-8, percent-encoded as application/x-www-form-urlencoded' }], 1);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    // Each problem names its parameter (as the query check does), so the answer says which
    // value is not percent-encoded UTF-8 rather than that the body is not a form.
    const name = decodeFormComponent(rawName, () => ({ pointer: `/${pointerSegment(clip(rawName))}`, message: 'is not a percent-encoded UTF-8 parameter name' }));
    const value = eq < 0 ? '' : decodeFormComponent(pair.slice(eq + 1), () => ({ pointer: `/${pointerSegment(name)}`, message: NOT_PERCENT_ENCODED }));
    const previous = form[name];
    form[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return { ...form };
}

/**
 * A decimal number's value as digits and the position of the decimal point, independent of how
 * it was written: `1.50`, `15e-1` and `0.15e1` all give `15@1`; zero is `0`. Two literals with
 * the same key are the same number. Used to tell whether a JSON number survives the round trip
 * through a double (its shortest form, `String(value)`) without changing: `9007199254740993.0`,
 * `2e-324` and `0.1000000000000000000001` do not, and are refused rather than altered.
 */
function decimalKey(literal: string): string {
  const match = /^-?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) return literal;
  const whole = match[1] ?? '';
  let digits = whole + (match[2] ?? '');
  let point = whole.length + Number(match[3] ?? 0);
  const leading = /^0*/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(leading).replace(/0+$/, '');
  point -= leading;
  if (digits === '') return '0';
  return `${literal.startsWith('-') ? '-' : ''}${digits}@${point}`;
}

/**
 * In valid UTF-8 JSON text a NUL or a lone surrogate can only be written as a `\u` escape (raw
 * control characters are not JSON and a UTF-8 surrogate fails the strict decoder). A body whose
 * text has no such escape needs no walk of the parsed value in preValidation; one that has one
 * (or an escaped backslash before `u0000`, a harmless false alarm) is walked as usual.
 */
const MAY_ESCAPE_UNSTORABLE = /\\u(?:0000|[dD][89a-fA-F])/;
/** JSON bodies whose text showed no unstorable escape (see MAY_ESCAPE_UNSTORABLE). */
const textCheckedBodies = new WeakSet<FastifyRequest>();

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
  return match ? (match[1] ?? '') : undefined;
}

const NOT_PERCENT_ENCODED = 'is not percent-encoded UTF-8 (a % must be followed by two hex digits of a UTF-8 sequence; write a literal % as %25)';

function decodeFormComponent(text: string, problem: () => ValueProblem): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw inputError([{ context: 'body', ...problem() }], 1);
  }
}

/**
 * Query parameters whose percent-encoding is not UTF-8 (`%FF`, an encoded lone surrogate
 * `%ED%A0%80`): the query parser keeps such text as it was written, which would silently
 * search for the characters "%FF". Each is refused, naming the parameter.
 */
function rawQueryProblems(url: string): ValueProblem[] {
  const query = url.indexOf('?');
  if (query < 0 || !url.includes('%', query)) return [];
  const problems: ValueProblem[] = [];
  for (const pair of url.slice(query + 1).split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      problems.push({ pointer: `/${pointerSegment(clip(rawName))}`, message: 'the parameter name is not percent-encoded UTF-8' });
      continue;
    }
    try {
      if (eq >= 0) decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      problems.push({ pointer: `/${pointerSegment(name)}`, message: NOT_PERCENT_ENCODED });
    }
  }
  return problems;
}

/** HTTP Basic credentials as the OAuth endpoints read them (RFC 6749 §2.3.1), for the text check. */
function basicCredentials(request: FastifyRequest): Record<string, string> | undefined {
  const header = request.headers.authorization;
  const basic = header && /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const part = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  return { authorization: `${part(decoded.slice(0, colon))}:${part(decoded.slice(colon + 1))}` };
}

/**
 * Scans JSON text without parsing it: nesting deeper than MAX_BODY_DEPTH, and integer literals
 * that JSON.parse would round (beyond ±(2^53 − 1), RFC 7493 §2.2) or numbers it would turn into
 * Infinity. Returns the first problem with its JSON pointer, or undefined. Syntax errors are
 * left to the parser.
 */
export function scanJsonText(text: string): ValueProblem | undefined {
  // One frame per open container: arrays count elements, objects remember their current key.
  // Objects also remember the keys seen so far: a repeated one is refused (RFC 7493 §2.3), since
  // the parser would silently keep only the last value.
  const frames: { array: boolean; index: number; key: [number, number] | undefined; expectKey: boolean; seen?: Set<string> }[] = [];
  const pointer = () => frames.map((f) => `/${f.array ? f.index : pointerSegment(keyText(text, f.key))}`).join('');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      const top = frames[frames.length - 1];
      if (top && !top.array && top.expectKey) {
        top.key = [start, i + 1];
        top.expectKey = false;
        const raw = text.slice(start + 1, i);
        const name = raw.includes('\\') ? keyText(text, top.key) : raw;
        top.seen ??= new Set();
        if (top.seen.has(name)) {
          return { pointer: pointer(), message: `repeats the key ${JSON.stringify(clip(name))} in one object; only one value can be kept (RFC 7493 §2.3)` };
        }
        top.seen.add(name);
        if (name === '__proto__') return { pointer: pointer(), message: 'the key "__proto__" is not accepted (JavaScript clients would take it for the object\'s prototype)' };
      }
    } else if (c === 0x7b || c === 0x5b) {
      frames.push({ array: c === 0x5b, index: 0, key: undefined, expectKey: c === 0x7b });
      if (frames.length > MAX_BODY_DEPTH) {
        frames.pop();
        return { pointer: pointer(), message: `nests more than ${MAX_BODY_DEPTH} levels of objects and arrays` };
      }
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
    } else if (c === 0x2c) {
      const top = frames[frames.length - 1];
      if (top?.array) top.index++;
      else if (top) top.expectKey = true;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < text.length && /[0-9eE.+-]/.test(text[end] as string)) end++;
      const literal = text.slice(i, end);
      const value = Number(literal);
      if (!Number.isFinite(value) && !Number.isNaN(value)) return { pointer: pointer(), message: `the number ${clip(literal)} is too large for a JSON number (IEEE 754 double)` };
      if (!/[.eE]/.test(literal) && literal.length > 15 && !Number.isSafeInteger(value)) {
        return { pointer: pointer(), message: `the integer ${clip(literal)} is beyond ±(2^53 − 1) and would not be kept exactly (RFC 7493 §2.2); send it as a string` };
      }
      if (!Number.isNaN(value) && decimalKey(literal) !== decimalKey(String(value))) {
        return { pointer: pointer(), message: `the number ${clip(literal)} cannot be kept exactly (as an IEEE 754 double it reads back as ${String(value)}); send fewer digits, or a string` };
      }
      i = end - 1;
    }
  }
  return undefined;
}

function keyText(text: string, key: [number, number] | undefined): string {
  if (!key) return '';
  const raw = text.slice(key[0], key[1]);
  try {
    return String(JSON.parse(raw));
  } catch {
    return raw.slice(1, -1);
  }
}

const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 40)}…` : text);

/**
 * A 400 shaped like a schema validation failure, so the error handlers (problem+json, or OAuth's
 * invalid_request) report it field by field. `total` counts problems beyond those listed.
 */
function inputError(problems: (ValueProblem & { context: string })[], total: number): Error {
  const first = problems[0];
  const error = new Error(first ? `${first.context}${first.pointer}: ${first.message}` : 'The request is not valid.');
  return Object.assign(error, {
    statusCode: 400,
    validationContext: first?.context ?? 'body',
    validation: problems.map((p) => ({ instancePath: p.pointer, message: p.message, params: { context: p.context } })),
    validationTotal: total,
  });
}
