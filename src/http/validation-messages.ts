/**
 * Ajv's issues in words a newcomer can act on. Ajv reports a union (`anyOf`: TypeBox unions,
 * literal enums, nullable fields) as one failure per branch plus "must match a schema in anyOf";
 * a format as `must match format "idn-email"`. Here each union becomes one issue (the allowed
 * values listed once, or the problem of the branch the value was meant for), and formats and
 * types are said in plain words. Ajv runs with `verbose`, so issues carry their schema and data.
 */

/** One issue as Ajv (or the input guard, which imitates it) reports it. */
export interface AjvIssue {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  schema?: unknown;
  parentSchema?: unknown;
  data?: unknown;
}

type Schema = Record<string, unknown>;

const FORMAT_WORDS: Record<string, string> = {
  email: 'must be an email address',
  'idn-email': 'must be an email address',
  uuid: 'must be a UUID, e.g. 0190a0a0-0000-7000-8000-000000000000',
  'date-time': 'must be a date-time as in RFC 3339, e.g. 2025-01-31T09:30:00Z (years 0001–9999)',
  date: 'must be a date as YYYY-MM-DD',
  time: 'must be a time as HH:MM:SS with an offset, e.g. 09:30:00Z',
  uri: 'must be an absolute URI, e.g. https://example.com/path',
  'uri-reference': 'must be a URI or a relative reference',
  hostname: 'must be a host name',
  ipv4: 'must be an IPv4 address',
  ipv6: 'must be an IPv6 address',
  regex: 'must be a regular expression',
};

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** Keywords that say only "not this kind of value": a union branch failing only these was not the one meant. */
const SHALLOW = new Set(['type', 'const', 'enum', 'oneOfValues']);

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A literal as listed to a reader: strings bare (the empty string as ""), others as JSON. */
const literal = (value: unknown): string => (typeof value === 'string' && value !== '' ? value : JSON.stringify(value));

/** The values a schema allows when it is a set of literals (const, enum, null, unions of them); else undefined. */
function literalsOf(schema: unknown): unknown[] | undefined {
  if (!isSchema(schema)) return undefined;
  if ('const' in schema) return [schema.const];
  if (Array.isArray(schema.enum)) return schema.enum;
  if (schema.type === 'null' && Object.keys(schema).every((k) => k === 'type' || k === 'description' || k === 'title')) return [null];
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) {
    const values: unknown[] = [];
    for (const branch of branches) {
      const inner = literalsOf(branch);
      if (!inner) return undefined;
      values.push(...inner);
    }
    return values;
  }
  return undefined;
}

/** "a string", "an email address", "null" …: what a schema expects, in a few words. */
function expectation(schema: unknown): string {
  if (!isSchema(schema)) return 'a valid value';
  const values = literalsOf(schema);
  if (values) return values.length === 1 ? literal(values[0]) : `one of: ${values.map(literal).join(', ')}`;
  if (typeof schema.format === 'string' && FORMAT_WORDS[schema.format]) return (FORMAT_WORDS[schema.format] as string).replace(/^must be /, '');
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const words = types.filter((t): t is string => typeof t === 'string').map((t) => TYPE_WORDS[t] ?? t);
  if (words.length > 0) return words.join(' or ');
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) return branches.map(expectation).join(' or ');
  return 'a valid value';
}

/** The message of one issue, in plain words. */
function wordsFor(issue: AjvIssue): string {
  const params = issue.params ?? {};
  switch (issue.keyword) {
    case 'format':
      return FORMAT_WORDS[String(params.format)] ?? `must be a valid ${String(params.format)}`;
    case 'type': {
      const types = Array.isArray(params.type) ? params.type : String(params.type).split(',');
      return `must be ${types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ')}`;
    }
    case 'enum':
      return `must be one of: ${(Array.isArray(params.allowedValues) ? params.allowedValues : []).map(literal).join(', ')}`;
    case 'const':
      return `must be ${literal(params.allowedValue)}`;
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `must have at most ${String(params.limit)} characters`;
    case 'pattern': {
      const description = isSchema(issue.parentSchema) && typeof issue.parentSchema.description === 'string' ? ` (${issue.parentSchema.description})` : '';
      return `must match the pattern ${String(params.pattern)}${description}`;
    }
    default:
      return issue.message ?? 'is not valid';
  }
}

/**
 * The issues of one failed validation, readable: every union collapsed to one issue, every
 * message in plain words. Issues keep their instancePath, keyword and params (the caller names
 * unknown and missing fields from them).
 */
export function readableIssues(issues: readonly AjvIssue[]): AjvIssue[] {
  let list = issues.map((issue) => ({ ...issue }));
  // Innermost unions first, so an outer union sees each inner one as a single issue.
  const unions = list
    .filter((i) => (i.keyword === 'anyOf' || i.keyword === 'oneOf') && typeof i.schemaPath === 'string')
    .sort((a, b) => (b.schemaPath as string).length - (a.schemaPath as string).length);
  for (const union of unions) {
    if (!list.includes(union)) continue;
    const prefix = `${union.schemaPath as string}/`;
    const branchIssues = list.filter((i) => i !== union && i.schemaPath?.startsWith(prefix) && (i.instancePath ?? '').startsWith(union.instancePath ?? ''));
    const branches = Array.isArray(union.schema) ? (union.schema as unknown[]) : [];
    list = list.filter((i) => i !== union && !branchIssues.includes(i));
    const byBranch = new Map<number, AjvIssue[]>();
    for (const issue of branchIssues) {
      const index = Number((issue.schemaPath as string).slice(prefix.length).split('/')[0]);
      byBranch.set(index, [...(byBranch.get(index) ?? []), issue]);
    }
    const values = branches.length > 0 ? literalsOf({ anyOf: branches }) : undefined;
    // The branches the value fits by kind but fails in detail: their problems are the ones to fix.
    const meant = [...byBranch.values()].filter((found) => found.some((i) => !SHALLOW.has(i.keyword ?? '') || (i.instancePath ?? '') !== (union.instancePath ?? '')));
    if (!values && meant.length > 0) {
      list.push(...meant.flat());
      continue;
    }
    const message = values ? `must be one of: ${values.map(literal).join(', ')}` : branches.length > 0 ? `must be ${branches.map(expectation).join(' or ')}` : 'is not valid';
    list.push({ instancePath: union.instancePath ?? '', schemaPath: union.schemaPath as string, keyword: 'oneOfValues', message, params: { allowedValues: values ?? [] } });
  }
  return list.map((issue) => (issue.keyword === 'oneOfValues' ? issue : { ...issue, message: wordsFor(issue) }));
}

/** The property names of the object schema an `additionalProperties` issue came from. */
export function knownProperties(issue: AjvIssue): string[] {
  return isSchema(issue.parentSchema) && isSchema(issue.parentSchema.properties) ? Object.keys(issue.parentSchema.properties) : [];
}

/**
 * The declared parameter a misspelt query parameter most likely meant: the same name with or
 * without OData's `$`, in any case (`filter` → `$filter`, `TOP` → `$top`).
 */
export function suggestParameter(name: string, known: readonly string[]): string | undefined {
  const plain = (text: string) => text.replace(/^\$/, '').toLowerCase();
  return known.find((k) => k !== name && plain(k) === plain(name));
}
