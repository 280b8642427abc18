import { freeJsonProblem } from '../domain/storable-values.js';
import { AppError, type FieldError } from '../errors/app-error.js';
import { USER_WRITABLE_FIELDS, type User, type UserInput, type UserStatus } from '../domain/user.js';
import { USER_CHECKED_TEXT_FIELDS, USER_OPTIONAL_TEXT_FIELDS, type UserOptionalTextField } from '../domain/user-fields.js';
import { duplicateExternalIds, externalIdProblems, textProblem } from '../domain/identifier-key.js';

/** HR feeds send "" for "no value"; storing it as null keeps filters like `title eq null` honest. */
const clean = (value: string | null | undefined): string | null => {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
};

/**
 * Builds the complete user a write asks for: every writable field but status taken from `input`, absent
 * optional fields cleared, derived fields (userName from email, displayName from the names)
 * filled in. Create, full replace and merge-patch all end here, so the rules live in one place.
 * Identifiers (userName, email, external ids) must hold only what RFC 8265 allows
 * (domain/identifier-key.ts); on an update (`stored`), a value the user already has is not
 * judged again, so a user stored before the rule can still be changed in other fields.
 */
export function buildUser(
  base: { id: string; tenantId: string; createdAt: string; version: number; status: UserStatus; lastLoginAt: string | null; provisionedBy: string | null },
  input: UserInput,
  now: string,
  stored?: User,
): User {
  const errors: FieldError[] = [];
  const email = clean(input.email);
  const sentUserName = clean(input.userName);
  const userName = sentUserName ?? email;
  if (userName === null) errors.push({ field: '/body/userName', message: 'userName is required when there is no email' });
  const values: Record<string, string | null> = { userName: sentUserName, email };
  for (const [field, textClass] of USER_CHECKED_TEXT_FIELDS) {
    // A userName taken from the email is judged (and reported) as the email.
    const value = values[field];
    if (value === null || value === undefined || (stored && stored[field] === value)) continue;
    const problem = textProblem(textClass, value);
    if (problem !== undefined) errors.push({ field: `/body/${field}`, message: problem });
  }

  const externalIds = input.externalIds ?? [];
  errors.push(...duplicateExternalIds('externalIds', externalIds));
  errors.push(...externalIdProblems('externalIds', externalIds, stored?.externalIds));
  const identificationTypes = new Set<string>();
  (input.identifications ?? []).forEach((i, index) => {
    if (identificationTypes.has(i.typeId)) errors.push({ field: `/body/identifications/${index}`, message: `more than one identification of type ${i.typeId}` });
    identificationTypes.add(i.typeId);
  });
  if (errors.length > 0) throw new AppError('request.validation_failed', errors.map((e) => e.message).join('; '), errors);

  const optional = Object.fromEntries(USER_OPTIONAL_TEXT_FIELDS.map((f) => [f, clean(input[f])])) as Record<UserOptionalTextField, string | null>;
  const derivedName = [optional.givenName, optional.familyName].filter((v) => v !== null).join(' ');
  return {
    ...optional,
    id: base.id,
    tenantId: base.tenantId,
    userName: userName as string,
    displayName: clean(input.displayName) ?? (derivedName || (userName as string)),
    managerId: input.managerId ?? null,
    positionId: input.positionId ?? null,
    areaId: input.areaId ?? null,
    preventDeprovision: input.preventDeprovision ?? false,
    identifications: (input.identifications ?? []).map((i) => ({ typeId: i.typeId, value: i.value })),
    externalIds: externalIds.map((e) => ({ origin: e.origin, key: e.key })),
    attributes: input.attributes ?? {},
    profile: input.profile ?? {},
    tags: [...new Set(input.tags ?? [])],
    // Status moves only through the lifecycle table (commands/user-commands.ts), never here.
    status: base.status,
    createdAt: base.createdAt,
    updatedAt: now,
    lastLoginAt: base.lastLoginAt,
    provisionedBy: base.provisionedBy,
    version: base.version,
  };
}

/** The writable view of a user: what PUT would have to send to leave it unchanged. */
export function writableFields(user: User): Record<string, unknown> {
  return Object.fromEntries(USER_WRITABLE_FIELDS.map((f) => [f, user[f]]));
}

/**
 * RFC 7396 JSON Merge Patch: objects merge recursively, null deletes, anything else (arrays
 * included) replaces.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * A merge patch within the limits can still grow a stored free-form value beyond them (two
 * patches of 40 KiB to different keys), so the merged value is checked too (FREE_JSON_LIMITS).
 * Throws 400 request.validation_failed naming the field. Returns the record.
 */
export function withinFreeJsonLimits<T extends Record<string, unknown>>(record: T, fields: readonly string[]): T {
  for (const field of fields) {
    const problem = record[field] === undefined || record[field] === null ? undefined : freeJsonProblem(record[field]);
    if (problem) throw new AppError('request.validation_failed', `/body/${field}: after the merge patch, ${problem}.`, [{ field: `/body/${field}`, message: `after the merge patch, ${problem}` }]);
  }
  return record;
}
