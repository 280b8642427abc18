import { AppError } from '../../errors/app-error.js';
import { DIRECTORY, type DirectoryDefinition } from '../../domain/directory.js';
import type { User } from '../../domain/user.js';
import { checkAttributes, mayHoldDateTimes, normaliseAttributes } from '../attribute-rules.js';
import type { UnitOfWork } from '../unit-of-work.js';

/**
 * What If-Match asks for: `undefined`, nothing (no header); `'*'`, any current version; a number,
 * exactly that version; a list, any one of them (RFC 9110 §13.1.1: `W/"3", W/"4"`). A tag that
 * is not one of Roster's versions reads as -1, which no version matches.
 */
export type ExpectedVersion = number | readonly number[] | '*' | undefined;

/** 412 request.precondition_failed when `version` is not what If-Match asked for. */
export function checkExpectedVersion(what: string, version: number, expected: ExpectedVersion): void {
  if (expected === undefined || expected === '*') return;
  const wanted = typeof expected === 'number' ? [expected] : expected;
  if (wanted.includes(version)) return;
  const named = wanted.filter((v) => v >= 0);
  const asked = named.length === 0 ? 'the If-Match header names no version of it' : `If-Match asked for ${named.map((v) => `W/"${v}"`).join(' or ')}`;
  throw new AppError('request.precondition_failed', `The ${what} is at version ${version} (ETag W/"${version}"); ${asked}. Fetch it again and retry.`);
}

/**
 * The user a write is about, locked for the rest of the unit on PostgreSQL (`intent`: see
 * UserRepository.findByIdForUpdate); 404 when it is not in the tenant, 412 when If-Match named
 * another version.
 */
export async function loadUserForWrite(
  unit: UnitOfWork,
  id: string,
  expected: ExpectedVersion,
  intent: 'update' | 'delete' = 'update',
  /** Users the caller may not see (a SCIM credential limited to its own) are a 404, before If-Match is judged. */
  visible?: (user: User) => boolean,
): Promise<User> {
  const user = await unit.repos.users.findByIdForUpdate(unit.tenantId, id, intent);
  if (!user || (visible && !visible(user))) throw new AppError('user.not_found', `No user with id ${id}.`);
  checkExpectedVersion('user', user.version, expected);
  return user;
}

/**
 * Puts `user.attributes` in stored form before the write is compared or checked: date-time
 * values of `date` attributes in UTC (normaliseAttributes), so filters compare them as text and
 * sending the same instant in another offset changes nothing. Values unchanged from `previous`
 * are left as they are. The definitions are loaded only when some value looks like a date-time.
 */
export async function normaliseUserAttributes(unit: UnitOfWork, user: User, previous: User | null): Promise<void> {
  if (!mayHoldDateTimes(user.attributes)) return;
  user.attributes = normaliseAttributes(user.attributes, await unit.context.attributeDefinitions(), previous?.attributes) as Record<string, unknown>;
}

/**
 * Every reference a user write makes must hold in its tenant: the manager (no cycles), the
 * position, area and identification types, and attribute values against the tenant's
 * definitions. On an update only the fields in `changed` are checked again (`previous` is the
 * stored user); on a create (`previous` null) everything is.
 */
export async function checkUserReferences(
  unit: UnitOfWork,
  user: User,
  previous: User | null,
  changed: ReadonlySet<string> | undefined,
  requireAllAttributes: boolean,
): Promise<void> {
  const isNew = (field: string) => previous === null || changed === undefined || changed.has(field);
  if (isNew('attributes')) {
    checkAttributes(user.attributes, await unit.context.attributeDefinitions(), { previous: previous?.attributes, requireAll: requireAllAttributes });
  }
  if (isNew('managerId')) await checkManager(unit, user);
  await checkDirectoryReferences(unit, user, previous);
}

/**
 * The new manager must be a user of the tenant who does not report to this user. The chain is
 * read under the tenant's `reporting-lines` lock (held until the unit ends), so two concurrent
 * changes (A's manager becomes B while B's becomes A) are checked one after the other and the
 * second sees the first: no cycle can be stored. The manager's row is held FOR KEY SHARE, so a
 * concurrent delete of the manager either waits for this write or makes it a 422.
 */
async function checkManager(unit: UnitOfWork, user: User): Promise<void> {
  if (user.managerId === null) return;
  if (user.managerId === user.id) throw new AppError('user.manager_cycle', 'A user cannot be their own manager.');
  await unit.repos.locks.acquire(user.tenantId, 'reporting-lines');
  if (!(await unit.repos.users.exists(user.tenantId, user.managerId, true))) {
    throw new AppError('user.manager_not_found', `No user with id ${user.managerId} in this tenant.`, [{ field: '/body/managerId', message: 'no such user' }]);
  }
  const chain = await unit.repos.users.managerChain(user.tenantId, user.managerId);
  if (chain.includes(user.id)) throw new AppError('user.manager_cycle', `User ${user.managerId} already reports (directly or indirectly) to this user.`);
}

/** Position, area and identification types must exist in the user's tenant (checked when changed). */
async function checkDirectoryReferences(unit: UnitOfWork, user: User, previous: User | null): Promise<void> {
  const refs: { def: DirectoryDefinition; field: string; ids: string[] }[] = [];
  if (user.positionId && user.positionId !== previous?.positionId) refs.push({ def: DIRECTORY.position, field: 'positionId', ids: [user.positionId] });
  if (user.areaId && user.areaId !== previous?.areaId) refs.push({ def: DIRECTORY.area, field: 'areaId', ids: [user.areaId] });
  const before = new Set(previous?.identifications.map((i) => i.typeId));
  const newTypes = user.identifications.map((i) => i.typeId).filter((id) => !before.has(id));
  if (newTypes.length > 0) refs.push({ def: DIRECTORY.identification_type, field: 'identifications', ids: newTypes });
  for (const ref of refs) {
    const found = await unit.context.existingIds(ref.def, ref.ids);
    const missing = ref.ids.filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new AppError('user.reference_not_found', `No ${ref.def.kind.replaceAll('_', ' ')} with id ${missing.join(', ')} in this tenant.`, [{ field: `/body/${ref.field}`, message: 'no such record' }]);
    }
  }
}
