import type { FieldError } from '../errors/app-error.js';

/**
 * A declared schema for a free-form configuration object (an identity provider's `config`): the
 * fields it may hold, their value types, and which are write-only secrets. Secrecy is decided by
 * this declaration, never by a key's name, so a secret cannot slip out under a name nobody
 * thought of or one level down. The objects are flat on purpose: a secret is a top-level string
 * or every value of a top-level map.
 */
export type ConfigFieldSpec =
  | { type: 'string'; secret?: boolean; maxLength?: number; description: string }
  | { type: 'boolean' | 'integer'; description: string }
  | { type: 'stringArray'; maxItems?: number; description: string }
  /** Keys chosen by the client, each naming a string; with `secret`, every value is write-only. */
  | { type: 'stringMap'; secret?: boolean; description: string };

export type ConfigSchema = Readonly<Record<string, ConfigFieldSpec>>;

/** Longest ordinary string value (URLs, ids, DNs); PEM certificates and keys get more. */
const STRING_MAX = 2_000;
const PEM_MAX = 16_384;
const MAP_MAX_ENTRIES = 50;
const ARRAY_MAX_ITEMS = 50;
/** Map keys: also used in `<field>.<key>` paths, so no dots. */
const MAP_KEY = /^[A-Za-z0-9_-]{1,64}$/;

const maxLengthOf = (spec: ConfigFieldSpec): number => (spec.type === 'string' ? (spec.maxLength ?? STRING_MAX) : STRING_MAX);

/**
 * The problems of `config` against `schema`, each naming its JSON pointer under `pointer` (e.g.
 * `/body/config`): fields the schema does not declare, values of the wrong type, over-long
 * strings, too many entries. `what` names the schema in messages ("oidc identity providers").
 */
export function validateConfig(schema: ConfigSchema, config: Record<string, unknown>, pointer: string, what: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(config)) {
    const spec = schema[key];
    const field = `${pointer}/${key}`;
    if (!spec) {
      errors.push({ field, message: `is not a config field of ${what}; the fields are ${Object.keys(schema).join(', ')}` });
      continue;
    }
    const problem = valueProblem(spec, value);
    if (problem) errors.push({ field, message: problem });
    else if (spec.type === 'stringMap') {
      for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
        if (!MAP_KEY.test(name)) errors.push({ field: `${field}/${name}`, message: 'keys are 1-64 letters, digits, "_" or "-"' });
        else if (typeof entry !== 'string') errors.push({ field: `${field}/${name}`, message: 'must be a string' });
        else if (entry.length > STRING_MAX) errors.push({ field: `${field}/${name}`, message: `must be at most ${STRING_MAX} characters` });
      }
    }
  }
  return errors;
}

function valueProblem(spec: ConfigFieldSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      return value.length > maxLengthOf(spec) ? `must be at most ${maxLengthOf(spec)} characters` : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : 'must be an integer';
    case 'stringArray': {
      const max = spec.maxItems ?? ARRAY_MAX_ITEMS;
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length > STRING_MAX)) return `must be an array of strings of at most ${STRING_MAX} characters`;
      return value.length > max ? `must have at most ${max} items` : undefined;
    }
    case 'stringMap': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object of strings';
      return Object.keys(value).length > MAP_MAX_ENTRIES ? `must have at most ${MAP_MAX_ENTRIES} entries` : undefined;
    }
  }
}

/**
 * What may be shown of a stored config: the declared non-secret fields, and the paths of the
 * secrets that are set (`clientSecret`, `secrets.apiKey`), sorted. Keys the schema does not
 * declare (stored before it existed, or under another provider type) are withheld and listed
 * like secrets: when in doubt, nothing is shown. `schema` undefined withholds everything.
 */
export function splitConfig(schema: ConfigSchema | undefined, config: Record<string, unknown>): { shown: Record<string, unknown>; secrets: string[] } {
  const shown: Record<string, unknown> = {};
  const secrets: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const spec = schema?.[key];
    const secret = spec === undefined || (spec.type === 'string' && spec.secret === true) || (spec.type === 'stringMap' && spec.secret === true && isMap(value));
    if (!secret) shown[key] = value;
    else if (spec?.type === 'stringMap') secrets.push(...Object.keys(value as Record<string, unknown>).map((name) => `${key}.${name}`));
    else secrets.push(key);
  }
  return { shown, secrets: secrets.sort() };
}

/**
 * A full replace of a config (PUT) that omits secrets keeps them: a client echoing a GET body
 * back never had them. Secret strings not sent survive; entries of a secret map not sent survive;
 * null removes a field or an entry. Fields the schema does not declare are not carried over.
 */
export function keepConfigSecrets(schema: ConfigSchema | undefined, previous: Record<string, unknown> | undefined, sent: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const next: Record<string, unknown> = { ...(sent ?? {}) };
  for (const [key, value] of Object.entries(previous ?? {})) {
    const spec = schema?.[key];
    if (spec?.type === 'string' && spec.secret === true && !(key in next)) next[key] = value;
    if (spec?.type === 'stringMap' && spec.secret === true && isMap(value) && next[key] !== null) {
      const sentMap = isMap(next[key]) ? (next[key] as Record<string, unknown>) : {};
      next[key] = { ...value, ...sentMap };
    }
  }
  for (const [key, value] of Object.entries(next)) {
    if (value === null) delete next[key];
    else if (isMap(value) && schema?.[key]?.type === 'stringMap') next[key] = withoutNulls(value);
  }
  return next;
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const withoutNulls = (map: Record<string, unknown>) => Object.fromEntries(Object.entries(map).filter(([, v]) => v !== null));

/** One line per field, for API documentation: `clientSecret (string, write-only)`. */
export function describeConfigSchema(schema: ConfigSchema): string {
  return Object.entries(schema)
    .map(([key, spec]) => `\`${key}\` (${spec.type}${'secret' in spec && spec.secret ? ', write-only' : ''})`)
    .join(', ');
}

export { PEM_MAX };
