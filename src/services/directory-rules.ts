import { AppError, type FieldError } from '../errors/app-error.js';
import { isSecretConfigKey, type DirectoryDefinition, type DirectoryRecord } from '../domain/directory.js';
import { applyMergePatch, withinFreeJsonLimits } from './user-rules.js';

const clean = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
};

/**
 * The complete record a write asks for: every field from `input`, defaults for what is absent.
 * Write-only config secrets survive a replace that omits them (a client echoing a GET body back
 * never sees them), and are removed only by an explicit null.
 */
export function buildRecord(
  def: DirectoryDefinition,
  base: Pick<DirectoryRecord, 'id' | 'tenantId' | 'createdAt' | 'version'>,
  input: Record<string, unknown>,
  now: string,
  /** On a full replace: the stored record, whose secrets survive when not sent. */
  replacing?: DirectoryRecord,
): DirectoryRecord {
  const record: DirectoryRecord = { id: base.id, tenantId: base.tenantId, createdAt: base.createdAt, updatedAt: now, version: base.version };
  const errors: FieldError[] = [];
  for (const [name, f] of Object.entries(def.fields)) {
    let value = clean(input[name]);
    if (value === undefined || value === null) value = f.default ?? null;
    if (f.required && (value === null || value === undefined)) errors.push({ field: `/body/${name}`, message: 'is required' });
    if (f.type === 'stringArray' && Array.isArray(value)) value = [...new Set(value as string[])];
    if (f.type === 'configObject' && f.secretsField && replacing) value = keepSecrets(replacing[name] as Record<string, unknown>, input[name] as Record<string, unknown> | null | undefined);
    if (f.type === 'externalIds') errors.push(...duplicateExternalIds(name, value as { origin: string; key: string }[]));
    record[name] = value;
  }
  if (errors.length > 0) throw new AppError('request.validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  const problems = def.validate?.(record) ?? [];
  if (problems.length > 0) throw new AppError(def.invalid ?? 'request.validation_failed', problems.map((e) => `${e.field}: ${e.message}`).join('; '), problems);
  return record;
}

/** PATCH: the stored record's fields, merge-patched (config merges key by key). */
export function patchedInput(def: DirectoryDefinition, current: DirectoryRecord, patch: Record<string, unknown>): Record<string, unknown> {
  const fields = Object.fromEntries(Object.keys(def.fields).map((name) => [name, current[name]]));
  const free = Object.entries(def.fields).flatMap(([name, f]) => (f.type === 'configObject' ? [name] : []));
  return withinFreeJsonLimits(applyMergePatch(fields, patch) as Record<string, unknown>, free);
}

function keepSecrets(previous: Record<string, unknown> | undefined, sent: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const next = { ...(sent ?? {}) };
  for (const [key, value] of Object.entries(previous ?? {})) {
    if (isSecretConfigKey(key) && !(key in next)) next[key] = value;
  }
  for (const [key, value] of Object.entries(next)) if (value === null) delete next[key];
  return next;
}

function duplicateExternalIds(field: string, externalIds: { origin: string; key: string }[]): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  externalIds.forEach((e, i) => {
    const id = JSON.stringify([e.origin, e.key]);
    if (seen.has(id)) errors.push({ field: `/body/${field}/${i}`, message: `duplicate external id {origin: ${e.origin}, key: ${e.key}}` });
    seen.add(id);
  });
  return errors;
}
