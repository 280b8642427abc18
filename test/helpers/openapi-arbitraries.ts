import fc from 'fast-check';

/*
 * fast-check arbitraries derived from an OpenAPI 3.1 document (the app's own /openapi.json),
 * for test/api/fuzz.test.ts: valid-ish values of a schema, the same with one hostile mutation,
 * and hostile path, query and header values. Nothing here knows Roster's routes: operations,
 * parameters and bodies come from the document, `$ref`s are resolved generically.
 */

/** A JSON Schema object as the document spells it (loosely typed: the document is the input). */
export type Schema = Record<string, unknown>;

/** One operation of the document: method, path template and its resolved parts. */
export interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }[];
  /** Content type → schema of the request body; empty when the operation takes no body. */
  bodies: Record<string, Schema>;
  bodyRequired: boolean;
}

/** Text sent as it is (a JSON fragment JSON.stringify cannot produce: -0, 1e400, deep nesting). */
export class Raw {
  constructor(readonly text: string) {}
}

/** JSON text of a value that may contain Raw fragments. */
export function toJsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Resolves `$ref`s (local JSON pointers, or ids of components) against the whole document. */
export function resolver(doc: Schema): (schema: unknown) => Schema {
  const byId = new Map<string, Schema>();
  const components = (doc.components as Schema | undefined)?.schemas as Record<string, Schema> | undefined;
  for (const [name, schema] of Object.entries(components ?? {})) {
    byId.set(name, schema);
    if (typeof schema.$id === 'string') byId.set(schema.$id, schema);
  }
  const pointer = (ref: string): Schema | undefined => {
    let node: unknown = doc;
    for (const raw of ref.replace(/^#\/?/, '').split('/')) {
      if (raw === '') continue;
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = node !== null && typeof node === 'object' ? (node as Schema)[key] : undefined;
    }
    return node !== null && typeof node === 'object' ? (node as Schema) : undefined;
  };
  const resolve = (schema: unknown, seen = 0): Schema => {
    const s = (schema ?? {}) as Schema;
    if (typeof s.$ref !== 'string' || seen > 32) return s;
    const ref = s.$ref;
    const target = ref.startsWith('#') ? pointer(ref) : (byId.get(ref) ?? byId.get(ref.replace(/#$/, '')));
    if (!target) throw new Error(`unresolvable $ref ${ref}`);
    const { $ref: _ref, ...siblings } = s;
    return { ...resolve(target, seen + 1), ...siblings };
  };
  return (schema) => resolve(schema);
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

/** Every operation of the document, with parameters and bodies resolved. */
export function operationsOf(doc: Schema): Operation[] {
  const resolve = resolver(doc);
  const operations: Operation[] = [];
  for (const [path, rawItem] of Object.entries((doc.paths ?? {}) as Record<string, Schema>)) {
    const item = resolve(rawItem);
    for (const method of METHODS) {
      const op = item[method] as Schema | undefined;
      if (!op) continue;
      const params = [...((item.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])].map((p) => resolve(p));
      const requestBody = op.requestBody ? resolve(op.requestBody) : undefined;
      const bodies: Record<string, Schema> = {};
      for (const [type, media] of Object.entries((requestBody?.content ?? {}) as Record<string, Schema>)) bodies[type] = resolve(media.schema);
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: params
          .filter((p) => p.in === 'path' || p.in === 'query' || p.in === 'header')
          .map((p) => ({ name: String(p.name), in: p.in as 'path' | 'query' | 'header', required: p.required === true, schema: resolve(p.schema) })),
        bodies,
        bodyRequired: requestBody?.required === true,
      });
    }
  }
  return operations;
}

/** Ids and names of real records, by kind (the URL segment: users, roles, …), so generated paths hit rows. */
export type IdPool = Record<string, string[]>;

const typesOf = (schema: Schema): string[] => (Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : []);

/** uuid values for a property, by its name (`managerId` → real user ids), so references hit rows. */
export type IdsFor = (property: string) => fc.Arbitrary<string>;

/**
 * A valid-ish value of `schema`: right types, formats and bounds, the required fields and a few
 * optional ones (each has its own chance to be wrong, so a valid base must stay small).
 */
export function validValue(schema: Schema, resolve: (s: unknown) => Schema, ids: IdsFor, depth = 0, name = ''): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((a) => validValue(resolve(a), resolve, ids, depth, name)));
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  if ('const' in s) return fc.constant(s.const);
  if (typesOf(s).length === 1 && typesOf(s)[0] === 'null') return fc.constant(null);
  const types = typesOf(s).filter((t) => t !== 'null');
  const type = types[0] ?? (s.properties ? 'object' : s.items ? 'array' : 'string');
  switch (type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = typeof s.minimum === 'number' ? s.minimum : -1000;
      const max = typeof s.maximum === 'number' ? s.maximum : 1000;
      return fc.integer({ min: Math.max(min, -1e6), max: Math.min(max, 1e6) });
    }
    case 'array': {
      if (depth > 4) return fc.constant([]);
      const maxItems = Math.min(typeof s.maxItems === 'number' ? s.maxItems : 3, 3);
      const minItems = Math.min(typeof s.minItems === 'number' ? s.minItems : 0, maxItems);
      return fc.array(validValue(resolve(s.items), resolve, ids, depth + 1, name), { minLength: minItems, maxLength: Math.min(maxItems, minItems + 1) });
    }
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, Schema>;
      if (depth > 4 || Object.keys(properties).length === 0) {
        return s.additionalProperties === false ? fc.constant({}) : fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'b'), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), { maxKeys: 2 }) });
      }
      const required = new Set((s.required ?? []) as string[]);
      const entries = Object.entries(properties).map(([key, property]) => {
        const value = validValue(property, resolve, ids, depth + 1, key);
        const optional = fc.oneof({ weight: 1, arbitrary: value }, { weight: 6, arbitrary: fc.constant(ABSENT) });
        return fc.tuple(fc.constant(key), required.has(key) ? value : optional);
      });
      return fc.tuple(...entries).map((pairs) => Object.fromEntries(pairs.filter(([, v]) => v !== ABSENT)));
    }
    default:
      return validString(s, ids(name));
  }
}

const ABSENT = Symbol('absent');

function validString(s: Schema, ids: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const maxLength = Math.min(typeof s.maxLength === 'number' ? s.maxLength : 40, 40);
  const minLength = Math.min(typeof s.minLength === 'number' ? s.minLength : 0, maxLength);
  switch (s.format) {
    case 'uuid':
      return fc.oneof(ids, fc.uuid());
    case 'email':
    case 'idn-email':
      return fc.oneof(fc.stringMatching(/^[a-z0-9]{1,10}@example\.com$/), fc.constantFrom('jürgen@münchen.de', 'ａｂｃ@example.com'), fc.emailAddress());
    case 'date-time':
      return fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'date':
      return fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'uri':
      return fc.webUrl();
  }
  if (typeof s.pattern === 'string') {
    // Patterns in the document are simple identifiers; a safe member of the usual shape.
    return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length >= minLength && x.length <= Math.max(maxLength, minLength, 1));
  }
  return fc.string({ minLength: Math.max(minLength, 1), maxLength: Math.max(maxLength, 1) });
}

/** Text with an unstorable character (NUL, a lone surrogate) somewhere in otherwise plain text. */
const poisoned: fc.Arbitrary<string> = fc
  .tuple(fc.string({ maxLength: 8 }), fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d'), fc.string({ maxLength: 8 }))
  .map(([a, bad, b]) => a + bad + b);

/** Strings storage cannot hold or parsers trip over: NUL, lone surrogates, huge, odd Unicode. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: poisoned },
  { weight: 3, arbitrary: fc.constantFrom('', ' ', '\u0000', 'jürgen', 'ju\u0308rgen', 'ａｂｃ', '\u202e', '\ufeff', '..', '../../etc/passwd', "'; drop table users; --", '%00', '%', '\\', '"', '${x}', '__proto__', 'constructor', 'null', 'true', '0', '-0', '1e400', '9999-12-31T24:00:00Z', '0000-01-01', '0000-01-01T00:00:00Z', '\r\n', '\u2028', '\u{1F600}') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: 257, max: 5000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('é'.repeat(70_000), `${'x'.repeat(4000)}\u0000`) },
);

/** Numbers JSON or the runtime cannot carry exactly, as JSON text. */
export const hostileNumber: fc.Arbitrary<Raw> = fc
  .constantFrom('-0', '1e400', '-1e400', '9007199254740993', '-9007199254740993', '123456789012345678901234567890', '1.5', '-1', '0', '2147483648', '1e-400', '0.1e1', '4294967296', '1E2')
  .map((t) => new Raw(t));

const nested = (levels: number, leaf = '1', key = true) => new Raw((key ? '{"a":' : '[').repeat(levels) + leaf + (key ? '}' : ']').repeat(levels));

/** A value that breaks the schema or the limits, in one place. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { '': 1 }, [[[]]]) },
  { weight: 2, arbitrary: fc.constantFrom(100, 5000).chain((n) => fc.constantFrom(nested(n), nested(n, '1', false), nested(n, '"\\u0000"'))) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => Array.from({ length: n }, () => 1)) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }) },
);

/** Values of the right kind for some attribute type, at the edges of what storage takes. */
const validScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>('x'.repeat(2000), 'x'.repeat(4000), 'é'.repeat(3000), '0001-01-01', '9999-12-31', '2024-02-29', 1e308, -1e308, 5e-324, 0, 9007199254740991, true, ['a', 'b'], ['x'.repeat(3000)]),
  fc.string({ maxLength: 20 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** One mutation of a valid object: a field replaced by a hostile value, removed, or an unknown field added. */
export type Mutation = { kind: 'set'; path: string[]; value: unknown } | { kind: 'delete'; key: string } | { kind: 'poison'; text: string } | { kind: 'none' };

/**
 * `innerKeys` are keys worth setting inside an object field (say the names of real attribute
 * definitions, so a hostile value reaches an indexed column).
 */
export function mutationOf(valid: unknown, schema: Schema, innerKeys: string[] = []): fc.Arbitrary<Mutation> {
  const keys = valid !== null && typeof valid === 'object' && !Array.isArray(valid) ? Object.keys(valid) : [];
  const declared = Object.keys((schema.properties ?? {}) as Schema);
  const choices: fc.Arbitrary<Mutation>[] = [fc.constant({ kind: 'none' as const }), fc.record({ kind: fc.constant('poison' as const), text: hostileString })];
  const fields = [...new Set([...keys, ...declared])];
  if (fields.length > 0) {
    choices.push(fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...fields).map((k) => [k]), value: hostileValue }));
    const inner = innerKeys.length > 0 ? fc.oneof(fc.constantFrom(...innerKeys), hostileString) : hostileString;
    choices.push(fc.record({ kind: fc.constant('set' as const), path: fc.tuple(fc.constantFrom(...fields), inner).map(([a, b]) => [a, b]), value: fc.oneof(hostileValue, validScalar) }));
  }
  if (keys.length > 0) choices.push(fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...keys) }));
  choices.push(fc.record({ kind: fc.constant('set' as const), path: fc.oneof(hostileString, fc.constantFrom('unknownField', '__proto__', 'constructor', 'id', 'version', 'tenantId')).map((k) => [k]), value: hostileValue }));
  return fc.oneof(...choices);
}

/** Applies a mutation to a copy of `valid`; a non-object becomes the hostile value itself. */
export function applyMutation(valid: unknown, mutation: Mutation): unknown {
  if (mutation.kind === 'none') return valid;
  if (mutation.kind === 'poison') return poison(valid, mutation.text);
  if (valid === null || typeof valid !== 'object' || Array.isArray(valid)) return mutation.kind === 'set' ? mutation.value : valid;
  const copy: Record<string, unknown> = { ...(valid as Record<string, unknown>) };
  if (mutation.kind === 'delete') {
    delete copy[mutation.key];
    return copy;
  }
  const [first, second] = mutation.path as [string, string | undefined];
  if (second === undefined) Object.defineProperty(copy, first, { value: mutation.value, enumerable: true, writable: true, configurable: true });
  else Object.defineProperty(copy, first, { value: { [second]: mutation.value }, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Every string of a value replaced by `text` (the keys of free-form objects too), so any string field meets it. */
function poison(value: unknown, text: string): unknown {
  if (typeof value === 'string') return text;
  if (Array.isArray(value)) return value.map((v) => poison(v, text));
  if (value !== null && typeof value === 'object' && !(value instanceof Raw)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v, text)]));
  return value;
}

/** Body texts that are not JSON, or JSON of the wrong shape entirely. */
export const malformedBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '{', '}', '{"a":}', "{'a':1}", '[1,2', 'null', 'true', '0', '"x"', '[]', '{}', '{"a":1,"a":2}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '\ufeff{}', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":1}garbage', 'NaN', '{"a":Infinity}', '\u0000', 'a=b&c=d', '{"a":1e400}', '{"a":-0}', '{"a":"\\x41"}'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(100, 5000).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.constantFrom(100, 5000).map((n) => '{"a":'.repeat(n)),
  fc.constant(JSON.stringify({ a: 'x'.repeat(1_100_000) })),
);

/** HTTP Basic credentials (the OAuth endpoints read them) with hostile client ids and secrets. */
export const basicAuthorization: fc.Arbitrary<string> = fc
  .tuple(fc.oneof(hostileString, fc.constantFrom('test-admin', 'a%00b', '%ED%A0%80', '%zz')), fc.oneof(hostileString, fc.constant('x')), fc.boolean())
  .map(([id, secret, colon]) => `Basic ${Buffer.from(colon ? `${id}:${secret}` : id, 'utf8').toString('base64')}`);

/** Content types worth trying on any body: odd, wrong, missing (undefined). */
export const oddContentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset="UTF-8"',
  'application/json;charset=utf8',
  'APPLICATION/JSON',
  'application/json; charset=',
  'application/merge-patch+json',
  'application/problem+json',
  'application/octet-stream',
  '*/*',
  'garbage',
  'application/json, text/plain',
);

/** A path segment, already percent-encoded: text with lone surrogates encoded as their WTF-8 bytes. */
export function encodeSegment(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (code >= 0xd800 && code <= 0xdfff) out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    else out += encodeURIComponent(ch);
  }
  return out;
}

/** Raw (already encoded) segments that exercise the router and the percent-decoder. */
export const rawSegment: fc.Arbitrary<string> = fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%FF', '%C0%AF', '%', '%zz', '%2e%2e', '..', '.', '%2F', 'a%2Fb', '%25', '%20', '+', 'x'.repeat(600), 'x'.repeat(5000), '00000000-0000-0000-0000-000000000000', '%EF%BB%BF');

/** OData-ish text built from the fields a collection declares: hostile literals, deep nesting, huge lists. */
export function hostileFilter(fields: string[]): fc.Arbitrary<string> {
  const field = fc.constantFrom(...fields, 'id', 'createdAt', 'updatedAt', 'attributes/x', 'attributes/a/b', 'nope', 'externalIds/any(e:e/key eq \'k\')');
  const literal = fc.oneof(
    fc.constantFrom("'a'", "'a''b'", "''", '0', '-0', '1e400', '99999999999999999999', '-9007199254740993', '1.5', 'null', 'true', '0000-01-01', '9999-12-31T24:00:00Z', '2024-02-30', '2024-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '10000-01-01', "'\u0000'", "'\ud800'", "'%00'", 'a1b2', "'" + 'x'.repeat(5000) + "'"),
    fc.string({ maxLength: 10 }).map((x) => `'${x.replace(/'/g, "''")}'`),
    poisoned.map((x) => `'${x.replace(/'/g, "''")}'`),
    fc.uuid(),
  );
  const op = fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in', 'has', 'sw', 'co');
  const comparison = fc.tuple(field, op, literal).map(([f, o, l]) => (o === 'in' ? `${f} in (${l}, ${l})` : `${f} ${o} ${l}`));
  return fc.oneof(
    { weight: 5, arbitrary: comparison },
    { weight: 2, arbitrary: fc.tuple(comparison, fc.constantFrom('and', 'or'), comparison).map((p) => p.join(' ')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('startswith', 'endswith', 'contains', 'tolower', 'length', 'substringof'), field, literal).map(([fn, f, l]) => `${fn}(${f},${l})`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(100, 1000, 3000), comparison).map(([n, c]) => '('.repeat(n) + c + ')'.repeat(n)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(100, 1000), comparison).map(([n, c]) => 'not '.repeat(n) + c) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(300, 2000), comparison).map(([n, c]) => Array.from({ length: n }, () => c).join(' or ')) },
    { weight: 1, arbitrary: fc.tuple(field, fc.constantFrom(1000, 5000)).map(([f, n]) => `${f} in (${Array.from({ length: n }, (_, i) => `'v${i}'`).join(',')})`) },
    { weight: 1, arbitrary: hostileString },
  );
}

/** A value for a declared query parameter: valid or hostile, by its schema and name. */
export function queryValue(name: string, schema: Schema, fields: string[], cursors: string[]): fc.Arbitrary<string> {
  const types = typesOf(schema);
  const numbers = fc.oneof(
    fc.integer({ min: -5, max: 2000 }).map(String),
    fc.constantFrom('1e400', '99999999999999999999', '-1', '-0', '0', '1.5', 'NaN', 'Infinity', '0x10', '', ' 1', '1 ', '+1', '١', '9007199254740993'),
  );
  const dates = fc.oneof(
    fc.constantFrom('0000-01-01', '9999-12-31T24:00:00Z', '0000-01-01T00:00:00Z', '10000-01-01', '2024-02-30', '2024-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', 'yesterday', ''),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  );
  if (types.includes('integer') || types.includes('number')) return fc.oneof({ weight: 2, arbitrary: numbers }, { weight: 1, arbitrary: dates }, { weight: 1, arbitrary: hostileString });
  if (types.includes('boolean')) return fc.constantFrom('true', 'false', 'TRUE', '1', '0', 'yes', '', 'null', '\u0000');
  const lower = name.toLowerCase();
  if (lower.includes('filter')) return hostileFilter(fields);
  if (lower.includes('orderby')) return fc.oneof(fc.array(fc.tuple(fc.constantFrom(...fields, 'id', 'nope', ''), fc.constantFrom('', ' asc', ' desc', ' desc desc', ' sideways')), { maxLength: 4 }).map((xs) => xs.map(([f, d]) => f + d).join(',')), hostileString);
  if (lower.includes('select')) return fc.oneof(fc.array(fc.constantFrom(...fields, 'id', '*', 'nope', '', 'attributes/x'), { maxLength: 6 }).map((xs) => xs.join(',')), hostileString);
  if (lower.includes('expand')) {
    const item = fc.constantFrom('manager', 'position', 'area', 'roles', 'groups', 'organizations', 'environments', 'identities', 'nope', 'groups($select=name)', 'groups($select=nope)', 'roles($expand=users)', 'manager($expand=manager)', 'groups(', 'groups($select=)', '*');
    return fc.oneof(fc.array(item, { maxLength: 5 }).map((xs) => xs.join(',')), fc.constantFrom(100, 1000).map((n) => 'manager($expand='.repeat(n) + 'manager' + ')'.repeat(n)), hostileString);
  }
  if (lower.includes('cursor')) {
    return fc.oneof(
      ...(cursors.length > 0 ? [fc.constantFrom(...cursors), fc.tuple(fc.constantFrom(...cursors), fc.nat()).map(([c, n]) => flip(c, n)), fc.tuple(fc.constantFrom(...cursors), fc.nat()).map(([c, n]) => c.slice(0, n % Math.max(c.length, 1)))] : []),
      fc.base64String({ maxLength: 200 }).map((b) => b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
      hostileString,
    );
  }
  if (lower === 'before' || lower === 'after' || schema.format === 'date-time' || schema.format === 'date') return fc.oneof(numbers, dates, hostileString);
  if (Array.isArray(schema.enum)) return fc.oneof(fc.constantFrom(...(schema.enum as unknown[]).map(String)), hostileString);
  return fc.oneof(fc.string({ maxLength: 20 }), hostileString, dates);
}

/** A cursor with one character changed (still base64url), so it decodes to damaged data. */
function flip(cursor: string, n: number): string {
  if (cursor.length === 0) return cursor;
  const i = n % cursor.length;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const next = alphabet[(alphabet.indexOf(cursor[i] as string) + 1 + (n % 63)) % alphabet.length] as string;
  return cursor.slice(0, i) + next + cursor.slice(i + 1);
}

/** If-Match values: right, wrong, malformed. `version` is a real current version when known. */
export const ifMatchValue: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 5 }).map((n) => `W/"${n}"`),
  fc.constantFrom('*', '"1"', 'W/"-1"', 'W/"1e400"', 'W/"99999999999999999999"', 'W/"1", W/"2"', 'W/', '""', 'garbage', 'W/"abc"', ' ', 'W/"1.5"', 'W/"0x1"', 'x'.repeat(3000), 'W/"ü"'),
);

/** Idempotency-Key values: normal, empty, long, non-ASCII (latin-1 is all a header can carry). */
export const idempotencyKeyValue: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.constantFrom('', ' ', 'k', 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(5000), 'clé', 'a b', '\t', 'key,other'),
);
