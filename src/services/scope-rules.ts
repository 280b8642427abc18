import { AppError, type FieldError } from '../errors/app-error.js';
import { identifierProblem } from '../domain/identifier-key.js';
import { SCIM_ORIGIN_MAX_LENGTH, hasScope, isScope, type Principal, type ScimSettings, type Scope, type StoredScimSettings } from '../domain/principal.js';

/**
 * A credential can only hand out what it holds: scopes for a new client or API token must be
 * known and each must be covered by the creator's own scopes.
 */
export function grantableScopes(creator: Principal, requested: readonly string[]): Scope[] {
  const unique = [...new Set(requested)];
  const unknown = unique.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new AppError('client.invalid_scopes', `Unknown scopes: ${unknown.join(', ')}.`);
  const beyond = (unique as Scope[]).filter((s) => !hasScope(creator.scopes, s));
  if (beyond.length > 0) throw new AppError('client.invalid_scopes', `You cannot grant scopes you do not hold: ${beyond.join(', ')}.`);
  if (unique.length === 0) throw new AppError('client.invalid_scopes', 'At least one scope is required.');
  return unique as Scope[];
}

/** The SCIM settings a create request of an API token or client may send (ScimSettings); each optional. */
export interface ScimSettingsInput {
  origin?: string | undefined;
  owns?: ScimSettings['owns'] | undefined;
  onDelete?: ScimSettings['onDelete'] | undefined;
}

/**
 * The SCIM settings to store for a new credential with `scopes`: what was sent, null for what was
 * not (the defaults then apply, DEFAULT_SCIM_SETTINGS). 400 naming each field when it is sent to
 * a credential without the `scim` (or `admin`) scope, where it would silently do nothing, and when
 * `origin` holds characters an external id origin may not (identifierProblem, as for the origins
 * of users' externalIds).
 */
export function scimSettingsToStore(scopes: readonly Scope[], input: ScimSettingsInput): StoredScimSettings {
  const errors: FieldError[] = [];
  const sent = (['origin', 'owns', 'onDelete'] as const).filter((field) => input[field] !== undefined);
  if (sent.length > 0 && !hasScope(scopes, 'scim')) {
    for (const field of sent) errors.push({ field: `/body/${field}`, message: 'is a SCIM setting: it applies only to a credential with the scim (or admin) scope; add "scim" to scopes' });
  } else if (input.origin !== undefined) {
    const length = [...input.origin].length;
    const problem = length < 1 || length > SCIM_ORIGIN_MAX_LENGTH ? `must have 1 to ${SCIM_ORIGIN_MAX_LENGTH} characters` : identifierProblem(input.origin);
    if (problem !== undefined) errors.push({ field: '/body/origin', message: problem });
  }
  if (errors.length > 0) throw new AppError('request.validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  return { origin: input.origin ?? null, owns: input.owns ?? null, onDelete: input.onDelete ?? null };
}
