import { AppError, type FieldError } from '../errors/app-error.js';
import { keepConfigSecrets, validateConfig } from '../domain/config-schema.js';
import { duplicateExternalIds, externalIdProblems, textProblem } from '../domain/identifier-key.js';
import { configSchemaOf, type DirectoryDefinition, type DirectoryField, type DirectoryRecord } from '../domain/directory.js';
import { stableStringify } from '../lib/stable-json.js';
import { applyMergePatch, withinFreeJsonLimits } from './user-rules.js';

const clean = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
};

/**
 * The complete record a write asks for: every field from `input`, defaults for what is absent.
 * Write-only config secrets survive a replace that omits them (a client echoing a GET body back
 * never sees them), and are removed only by an explicit null. Names, codes, aliases and external
 * ids must hold only the characters their class allows (DirectoryField.characters); on an update
 * (`stored`), a value the record already has is not judged again.
 */
export function buildRecord(
  def: DirectoryDefinition,
  /** Server-owned field values of a new record (DirectoryField.serverOwned) may ride along. */
  base: Pick<DirectoryRecord, 'id' | 'tenantId' | 'createdAt' | 'version'> & Record<string, unknown>,
  input: Record<string, unknown>,
  now: string,
  /** On a full replace: the stored record, whose secrets survive when not sent. */
  replacing?: DirectoryRecord,
  /** On an update: the stored record, whose unchanged values are not judged again. */
  stored?: DirectoryRecord,
): DirectoryRecord {
  const record: DirectoryRecord = { id: base.id, tenantId: base.tenantId, createdAt: base.createdAt, updatedAt: now, version: base.version };
  const errors: FieldError[] = [];
  for (const [name, f] of Object.entries(def.fields)) {
    if (f.serverOwned) {
      // Never from the input: the stored value, or what the creating command put in base.
      record[name] = (stored ?? (base as Partial<DirectoryRecord>))[name] ?? null;
      continue;
    }
    let value = clean(input[name]);
    if (value === undefined || value === null) value = f.default ?? null;
    if (f.required && (value === null || value === undefined)) errors.push({ field: `/body/${name}`, message: 'is required' });
    if (f.type === 'stringArray' && Array.isArray(value)) value = [...new Set(value as string[])];
    if (f.type === 'externalIds') {
      const ids = value as { origin: string; key: string }[];
      errors.push(...duplicateExternalIds(name, ids), ...externalIdProblems(name, ids, stored?.[name] as { origin: string; key: string }[] | undefined));
    }
    if (f.characters && typeof value === 'string' && stored?.[name] !== value) {
      const problem = textProblem(f.characters, value);
      if (problem !== undefined) errors.push({ field: `/body/${name}`, message: problem });
    }
    record[name] = value;
  }
  // Config objects last: their schema depends on another field (an identity provider's type).
  for (const [name, f] of Object.entries(def.fields)) {
    if (f.type !== 'configObject' || !f.configSchema) continue;
    const what = `${String(record[f.configSchema.by])} ${def.title.toLowerCase()}`;
    errors.push(...typeChangeProblems(record, name, f.configSchema.by, buildConfig(record, name, f, what, replacing), stored));
  }
  if (errors.length > 0) throw new AppError('request.validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  const problems = def.validate?.(record) ?? [];
  if (problems.length > 0) throw new AppError(def.invalid ?? 'request.validation_failed', problems.map((e) => `${e.field}: ${e.message}`).join('; '), problems);
  return record;
}

/** PATCH: the stored record's fields, merge-patched (config merges key by key). */
export function patchedInput(def: DirectoryDefinition, current: DirectoryRecord, patch: Record<string, unknown>): Record<string, unknown> {
  const fields = Object.fromEntries(Object.entries(def.fields).flatMap(([name, f]) => (f.serverOwned ? [] : [[name, current[name]]])));
  const free = Object.entries(def.fields).flatMap(([name, f]) => (f.type === 'configObject' ? [name] : []));
  return withinFreeJsonLimits(applyMergePatch(fields, patch) as Record<string, unknown>, free);
}

/**
 * Sets a config field of `record` from the value built so far (what was sent, or the stored
 * config merge-patched): on a replace, the stored secrets that were not sent survive
 * (keepConfigSecrets); nulls remove; then the result is checked against the schema the record's
 * type declares. `what` names that schema in messages. Returns the problems.
 */
function buildConfig(record: DirectoryRecord, name: string, field: DirectoryField, what: string, replacing?: DirectoryRecord): FieldError[] {
  const schema = configSchemaOf(field, record);
  if (!schema) return []; // the field it depends on is missing or invalid, which is reported on its own
  const previous = replacing ? (replacing[name] as Record<string, unknown> | undefined) : undefined;
  const config = keepConfigSecrets(schema, previous, record[name] as Record<string, unknown> | null);
  record[name] = config;
  return validateConfig(schema, config, `/body/${name}`, what);
}

/**
 * A write that changes the type a config depends on (an identity provider's `type`) but keeps the
 * stored config: the stored fields the new type does not declare are not the client's mistake
 * field by field (it sent none of them), so they become one problem at the config saying that
 * the new type needs its own config. Problems with fields the client did send stay as they are.
 */
function typeChangeProblems(record: DirectoryRecord, name: string, by: string, problems: FieldError[], stored?: DirectoryRecord): FieldError[] {
  if (!stored || problems.length === 0 || stored[by] === record[by]) return problems;
  const before = (stored[name] as Record<string, unknown> | null | undefined) ?? {};
  const after = (record[name] as Record<string, unknown> | null | undefined) ?? {};
  const pointer = `/body/${name}/`;
  const keyOf = (field: string) => (field.startsWith(pointer) ? field.slice(pointer.length).split('/')[0] : undefined);
  const carried = (key: string | undefined) => key !== undefined && key in before && stableStringify(before[key]) === stableStringify(after[key]);
  const kept = problems.filter((p) => !carried(keyOf(p.field)));
  if (kept.length === problems.length) return problems;
  const keys = [...new Set(problems.map((p) => keyOf(p.field)).filter((k) => carried(k)))];
  return [
    {
      field: `/body/${name}`,
      message: `changing ${by} from ${String(stored[by])} to ${String(record[by])} needs a ${name} for ${String(record[by])}: the stored ${name} has ${keys.join(', ')}, which ${String(record[by])} does not take; send ${name} (null to start empty) with the change`,
    },
    ...kept,
  ];
}
