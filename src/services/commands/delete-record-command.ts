import { AppError } from '../../errors/app-error.js';
import { DIRECTORY, type DirectoryDefinition, type DirectoryRecord } from '../../domain/directory.js';
import type { DomainEvent } from '../../domain/event.js';
import { MEMBERSHIPS, applyEntries, identityEventView, membershipEventChanges, type MembershipDefinition } from '../../domain/membership.js';
import { newEvent } from '../event-factory.js';
import type { ExpectedVersion } from './user-checks.js';
import type { Command, UnitOfWork } from '../unit-of-work.js';
import { label, loadRecordForWrite, lockDefinitionsOf, recordEvent } from './directory-commands.js';

/**
 * Deletes a directory record and what hangs on it, in the caller's unit:
 * - refused (409 directory.in_use, with the count) while children, users or other kinds still
 *   point at it (positions, areas, parents);
 * - a kind users are members of takes the memberships with it: one `user.memberships_changed`
 *   per member, and each member's version moves;
 * - a kind users link to (identity providers) takes the links with it: one
 *   `user.identity_unlinked` per link, the same event as unlinking one through the user;
 * - one `<kind>.deleted`.
 * Returns the deleted record (callers may have follow-up work, such as dropping an index).
 */
export function deleteRecord(def: DirectoryDefinition, id: string, expected: ExpectedVersion): Command<DirectoryRecord> {
  return async (unit) => {
    // Lock order, shared by every write that touches users and directory records: users (by id)
    // first, then the record. Deleting a user or changing a membership locks the user and then
    // touches its groups; taking the record first here would deadlock with them on PostgreSQL.
    await lockDefinitionsOf(unit, def);
    const membership = def.membership && MEMBERSHIPS[def.membership.kind];
    if (membership) await unit.repos.memberships.lockUsers(unit.tenantId, await unit.repos.directory.memberUserIds(membership.table, membership.column, unit.tenantId, id));
    const current = await loadRecordForWrite(unit, def, id, expected, 'delete');
    await refuseIfReferenced(unit, def, id);
    const events: DomainEvent[] = [];
    if (def.userLinks) events.push(...(await unlinkAll(unit, id)));
    if (membership) events.push(...(await removeAllMembers(unit, membership, id)));
    await unit.repos.directory.delete(def, unit.tenantId, id);
    unit.context.forget(def.kind, id);
    if (def.definesUserAttributes) unit.context.invalidateAttributeDefinitions();
    events.push(recordEvent(unit, def, 'deleted', id, current, null));
    return { value: current, events };
  };
}

async function unlinkAll(unit: UnitOfWork, providerId: string): Promise<DomainEvent[]> {
  const links = await unit.repos.identities.listByProvider(unit.tenantId, providerId);
  return links.map((link) => newEvent(unit.principal, unit.clock, 'user.identity_unlinked', 'user', link.userId, { identity: { from: identityEventView(link), to: null } }));
}

/**
 * The record's members lose it: one `user.memberships_changed` each, with exactly the payload
 * removing that one membership through the user would write (environments include their
 * permissions). Read once the record is locked, so no member can join or leave meanwhile; a
 * member who joined between the first read and the lock is locked now.
 */
async function removeAllMembers(unit: UnitOfWork, def: MembershipDefinition, id: string): Promise<DomainEvent[]> {
  const userIds = await unit.repos.directory.memberUserIds(def.table, def.column, unit.tenantId, id);
  await unit.repos.memberships.lockUsers(unit.tenantId, userIds);
  const before = await unit.repos.memberships.entriesOfUsers(def, unit.tenantId, userIds);
  // The membership rows go with the record (ON DELETE CASCADE); the members' versions move.
  await unit.repos.users.bumpVersions(unit.tenantId, userIds, unit.now());
  return userIds.map((userId) => {
    const entries = before.get(userId) ?? [];
    const changes = membershipEventChanges(def, entries, applyEntries(entries, [], [id]));
    return newEvent(unit.principal, unit.clock, 'user.memberships_changed', 'user', userId, changes);
  });
}

async function refuseIfReferenced(unit: UnitOfWork, def: DirectoryDefinition, id: string): Promise<void> {
  const checks: { table: string; column: string; what: string }[] = [];
  if (def.tree) checks.push({ table: def.table, column: 'parent_id', what: `child ${def.title.toLowerCase()}` });
  if (def.userColumn) checks.push({ table: 'users', column: def.userColumn, what: 'users' });
  for (const ref of def.referencedBy ?? []) checks.push({ table: DIRECTORY[ref.kind].table, column: ref.column, what: DIRECTORY[ref.kind].title.toLowerCase() });
  for (const check of checks) {
    const count = await unit.repos.directory.countReferences(check.table, check.column, unit.tenantId, id);
    if (count > 0) throw new AppError('directory.in_use', `The ${label(def)} is still referenced by ${count} ${check.what}; reassign them first.`);
  }
}
