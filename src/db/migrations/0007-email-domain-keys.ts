import type { Migration } from 'kysely';
import { identifierKey } from '../../domain/identifier-key.js';
import { identifierKeysMigration } from './0006-identifier-keys.js';

/**
 * `identifierKey` now puts the domain of an email address in its Unicode form
 * (`jürgen@xn--mnchen-3ya.de` compares as `jürgen@münchen.de`): the comparison copies of values
 * whose key that changes (userName, email, external ids, names that are addresses) are
 * recomputed the way 0006 does it: only rows whose copy changes are written, and a row whose new
 * copy another row of its tenant already holds keeps its old one, with a warning. Values the
 * domain mapping does not touch are left to 0006 (so its warnings are not repeated).
 */
export function emailDomainKeysMigration(): Migration {
  return identifierKeysMigration('0007-email-domain-keys', domainMappingChanges);
}

/** Whether identifierKey maps `value` otherwise than part by part, i.e. its email domain mapping changes it. */
function domainMappingChanges(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0) return false;
  return identifierKey(value) !== `${identifierKey(value.slice(0, at))}@${identifierKey(value.slice(at + 1))}`;
}
