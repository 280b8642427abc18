import { MEMBERSHIPS, MEMBERSHIP_KINDS } from '../../domain/membership.js';
import { diffFields, type DomainEvent } from '../../domain/event.js';
import { USER_EVENT_FIELDS } from '../../domain/user-fields.js';
import { writableFields } from '../user-rules.js';
import { newEvent } from '../event-factory.js';
import type { Command } from '../unit-of-work.js';
import { loadUserForWrite, type ExpectedVersion } from './user-checks.js';

/**
 * Deletes a user and what hangs on it, in the caller's unit:
 * - direct reports lose their manager, each with its own `user.updated` so their history says why;
 * - the roles, groups, organizations and environments the user belonged to lose a member, so
 *   their versions move (their member lists changed; the rows go with the user by cascade);
 * - one `user.deleted`. The event trail outlives the user.
 * 404 when the user is not in the tenant (also for all but the first of concurrent deletes:
 * the row is locked before it is read), 412 when If-Match names another version.
 */
export function deleteUser(id: string, expected: ExpectedVersion): Command<void> {
  return async (unit) => {
    const user = await loadUserForWrite(unit, id, expected, 'delete');
    const now = unit.now();
    const events: DomainEvent[] = [];
    for (const reportId of await unit.repos.users.clearManager(unit.tenantId, id, now)) {
      events.push(newEvent(unit.principal, unit.clock, 'user.updated', 'user', reportId, { managerId: { from: id, to: null } }));
    }
    for (const kind of MEMBERSHIP_KINDS) {
      const def = MEMBERSHIPS[kind];
      const entries = await unit.repos.memberships.entriesOfUser(def, unit.tenantId, id);
      await unit.repos.directory.bumpVersions(def.target, unit.tenantId, entries.map((e) => e.targetId), now);
    }
    await unit.repos.users.delete(unit.tenantId, id);
    events.push(newEvent(unit.principal, unit.clock, 'user.deleted', 'user', id, diffFields(writableFields(user), null, USER_EVENT_FIELDS)));
    return { value: undefined, events };
  };
}
