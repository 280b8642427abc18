import { AppError } from '../errors/app-error.js';
import { hasScope, isScope, type Principal, type Scope } from '../domain/principal.js';

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
