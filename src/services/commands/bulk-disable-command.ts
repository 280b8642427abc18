import { AppError } from '../../errors/app-error.js';
import { identifierKey } from '../../domain/identifier-key.js';
import type { ExternalId } from '../../domain/user.js';
import type { DisableOutcome, DisableTarget } from '../../domain/bulk-upsert.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { loadUserForWrite } from './user-checks.js';
import { transitionUser } from './user-commands.js';

const pairKey = (p: ExternalId) => `${identifierKey(p.origin)}\u0000${identifierKey(p.key)}`;

/**
 * Suspends the users `indexes` of `targets` name, in the caller's unit, each in its own
 * savepoint through the lifecycle table (`user.suspended`): a user already suspended is
 * `unchanged` (nothing written); one with preventDeprovision, one whose status cannot become
 * suspended (deprovisioned…) or one that does not exist is an error of its own.
 */
export function disableUsers(targets: readonly DisableTarget[], indexes: readonly number[]): (unit: UnitOfWork) => Promise<DisableOutcome[]> {
  return async (unit) => {
    const pairs = indexes.map((i) => targets[i] as DisableTarget).filter((t): t is ExternalId => 'origin' in t);
    const byKey = await unit.repos.users.idsByExternalIds(unit.tenantId, pairs);
    // Every user of the chunk locked up front, in id order (as the bulk upsert and member changes
    // lock theirs): two bulk calls over the same users queue instead of deadlocking.
    const ids = indexes.map((i) => targets[i] as DisableTarget).map((t) => ('id' in t ? t.id.toLowerCase() : byKey.get(pairKey(t))));
    await unit.repos.memberships.lockUsers(unit.tenantId, ids.filter((id): id is string => id !== undefined));
    const outcomes: DisableOutcome[] = [];
    for (const index of indexes) {
      const target = targets[index] as DisableTarget;
      const id = 'id' in target ? target.id.toLowerCase() : byKey.get(pairKey(target));
      if (id === undefined) {
        const named = 'id' in target ? target.id : `{origin: ${JSON.stringify(target.origin)}, key: ${JSON.stringify(target.key)}}`;
        outcomes.push({ index, id: null, status: 'error', error: new AppError('user.not_found', `No user ${named} in this tenant.`) });
        continue;
      }
      const outcome = await unit.attempt(async (u) => {
        const user = await loadUserForWrite(u, id, undefined);
        if (user.preventDeprovision) throw new AppError('bulk.deprovision_prevented', `User ${id} has preventDeprovision set; clear it to disable the user.`);
        const result = await transitionUser(id, 'suspended', undefined)(u);
        return { value: result.events.length > 0 ? ('disabled' as const) : ('unchanged' as const), events: result.events };
      });
      outcomes.push(outcome.ok ? { index, id, status: outcome.value } : { index, id: (outcome.error as AppError).code === 'user.not_found' ? null : id, status: 'error', error: outcome.error as AppError });
    }
    return outcomes;
  };
}
