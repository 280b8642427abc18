import { AppError } from '../../errors/app-error.js';
import { DIRECTORY, type DirectoryDefinition } from '../../domain/directory.js';
import { identifierKey } from '../../domain/identifier-key.js';
import type { EnvironmentPermission } from '../../domain/membership.js';
import { managerKeyInBatch, type BulkRow, type Reference } from '../../domain/bulk-upsert.js';
import type { ExternalId } from '../../domain/user.js';
import { isUuid } from '../../lib/ids.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { DesiredMembership } from './membership-commands.js';

/** The kinds a row refers to besides its manager, and the directory kind of each. */
const TARGETS = {
  position: DIRECTORY.position,
  area: DIRECTORY.area,
  groups: DIRECTORY.group,
  roles: DIRECTORY.role,
  organizations: DIRECTORY.organization,
  environments: DIRECTORY.environment,
} as const;
type TargetField = keyof typeof TARGETS;

/** What a row's references resolve to: ids, ready for the user write and the membership replaces. */
export interface ResolvedReferences {
  managerId?: string | null;
  /** The manager is a row of the batch that a dry run did not write (see BatchIds.phantom). */
  managerPlanned?: boolean;
  positionId?: string | null;
  areaId?: string | null;
  memberships: Partial<Record<'groups' | 'roles' | 'organizations' | 'environments', DesiredMembership[]>>;
}

/** Ids of the batch's rows by key (comparison form): users that exist and users the batch will create. */
export interface BatchIds {
  origin: string;
  ids: ReadonlyMap<string, string>;
  /** Keys of rows a dry run planned to create in an earlier chunk: their ids are not in the database. */
  phantom: ReadonlySet<string>;
}

/** A lookup key: what kind of name, and its comparison form. */
type Lookup = { by: 'id'; value: string } | { by: 'name' | 'code' | 'userName'; value: string } | { by: 'external'; value: string; pair: ExternalId };

const pairKey = (p: ExternalId) => `${identifierKey(p.origin)}\u0000${identifierKey(p.key)}`;

/** How a reference looks its target up; `stringBy` is what a plain non-UUID string names. */
function lookupOf(ref: Reference, stringBy: 'name' | 'code' | 'userName'): Lookup {
  if (typeof ref === 'string') return isUuid(ref) ? { by: 'id', value: ref.toLowerCase() } : { by: stringBy, value: identifierKey(ref) };
  if ('id' in ref) return { by: 'id', value: ref.id.toLowerCase() };
  if ('name' in ref) return { by: 'name', value: identifierKey(ref.name) };
  if ('code' in ref) return { by: 'code', value: identifierKey(ref.code) };
  if ('userName' in ref) return { by: 'userName', value: identifierKey(ref.userName) };
  return { by: 'external', value: pairKey(ref), pair: ref };
}

const describe = (ref: Reference): string => (typeof ref === 'string' ? JSON.stringify(ref) : JSON.stringify(ref));

/**
 * Resolves the references of many rows at once, inside the unit: one query per kind and way of
 * naming (ids, names, codes, external ids, userNames), whatever the number of rows. Records found
 * are locked against deletion until the unit ends (TenantContext.existingIds), so what a row was
 * checked against is still there when it commits. Returns, per row, its ids or the error of that
 * row (a reference that finds nothing, or a name that finds several records).
 */
export async function resolveReferences(unit: UnitOfWork, batch: BatchIds, rows: readonly BulkRow[]): Promise<(ResolvedReferences | AppError)[]> {
  const tables = new Map<TargetField, Map<string, string | string[]>>();
  for (const field of Object.keys(TARGETS) as TargetField[]) tables.set(field, await resolveKind(unit, field, rows));
  const managers = await resolveManagers(unit, batch, rows);
  return rows.map((row) => {
    try {
      return resolveRow(row, batch, tables, managers);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
  });
}

function referencesOf(row: BulkRow, field: TargetField): Reference[] {
  switch (field) {
    case 'position':
    case 'area': {
      const ref = row[field];
      return ref === undefined || ref === null ? [] : [ref];
    }
    case 'environments':
      return (row.environments ?? []).map((e) => e.environment);
    default:
      return row[field] ?? [];
  }
}

/** Resolves every reference of one kind in all rows: lookup value → id (or ids, when a name is not unique). */
async function resolveKind(unit: UnitOfWork, field: TargetField, rows: readonly BulkRow[]): Promise<Map<string, string | string[]>> {
  const def: DirectoryDefinition = TARGETS[field];
  const stringBy = field === 'organizations' ? 'code' : 'name';
  const wanted = { id: new Set<string>(), name: new Set<string>(), code: new Set<string>(), external: new Map<string, ExternalId>() };
  for (const row of rows) {
    for (const ref of referencesOf(row, field)) {
      const lookup = lookupOf(ref, stringBy);
      if (lookup.by === 'external') wanted.external.set(lookup.value, lookup.pair);
      else if (lookup.by === 'id' || lookup.by === 'name' || lookup.by === 'code') wanted[lookup.by].add(lookup.value);
    }
  }
  const found = new Map<string, string | string[]>();
  const candidates = new Set<string>(wanted.id);
  if (wanted.name.size > 0) {
    for (const [name, ids] of await unit.repos.directory.idsByLowerColumn(def, unit.tenantId, 'name_lower', [...wanted.name])) {
      found.set(`name:${name}`, ids.length === 1 ? (ids[0] as string) : ids);
      ids.forEach((id) => candidates.add(id));
    }
  }
  if (wanted.code.size > 0 && def.fields.code) {
    for (const [code, ids] of await unit.repos.directory.idsByLowerColumn(def, unit.tenantId, 'code_lower', [...wanted.code])) {
      found.set(`code:${code}`, ids.length === 1 ? (ids[0] as string) : ids);
      ids.forEach((id) => candidates.add(id));
    }
  }
  if (wanted.external.size > 0) {
    for (const [pair, id] of await unit.repos.directory.idsByExternalIds(def, unit.tenantId, [...wanted.external.values()])) {
      found.set(`external:${pair}`, id);
      candidates.add(id);
    }
  }
  // Every id a row will point at, locked against deletion for the rest of the unit.
  const existing = candidates.size > 0 ? await unit.context.existingIds(def, [...candidates]) : new Set<string>();
  for (const id of wanted.id) if (existing.has(id)) found.set(`id:${id}`, id);
  for (const [k, v] of found) {
    if (typeof v === 'string' && !existing.has(v)) found.delete(k);
    else if (Array.isArray(v)) found.set(k, v.filter((id) => existing.has(id)));
  }
  return found;
}

/** Manager references: batch keys, ids, userNames and external ids of other origins. */
async function resolveManagers(unit: UnitOfWork, batch: BatchIds, rows: readonly BulkRow[]): Promise<Map<string, string>> {
  const keys = batch.ids;
  const userNames = new Set<string>();
  const external = new Map<string, ExternalId>();
  for (const row of rows) {
    const ref = row.manager;
    if (ref === undefined || ref === null || managerKeyInBatch(ref, batch.origin, keys) !== undefined) continue;
    const lookup = lookupOf(ref, 'userName');
    if (lookup.by === 'userName' || lookup.by === 'name') userNames.add(lookup.value);
    else if (lookup.by === 'external') external.set(lookup.value, lookup.pair);
    // A plain string is first a key of the batch's origin (a stored user the batch does not list).
    if (typeof ref === 'string' && lookup.by === 'userName') {
      const pair = { origin: batch.origin, key: ref };
      external.set(pairKey(pair), pair);
    }
  }
  const found = new Map<string, string>();
  // Users of the batch's origin that are not rows of this batch: keyed like any external id.
  for (const [name, id] of await unit.repos.users.idsByUserNames(unit.tenantId, [...userNames])) found.set(`userName:${name}`, id);
  for (const [pair, id] of await unit.repos.users.idsByExternalIds(unit.tenantId, [...external.values()])) found.set(`external:${pair}`, id);
  return found;
}

function resolveRow(row: BulkRow, batch: BatchIds, tables: Map<TargetField, Map<string, string | string[]>>, managers: Map<string, string>): ResolvedReferences {
  const resolved: ResolvedReferences = { memberships: {} };
  for (const [ref, idField] of [['manager', 'managerId'], ['position', 'positionId'], ['area', 'areaId']] as const) {
    if (row[ref] !== undefined && row.fields[idField] !== undefined) {
      throw new AppError('bulk.conflicting_fields', `The row sends both ${ref} and ${idField}; send one.`, [{ field: `/body/${ref}`, message: `conflicts with ${idField}` }]);
    }
  }
  if (row.manager !== undefined) {
    if (row.manager === null) resolved.managerId = null;
    else {
      const inBatch = managerKeyInBatch(row.manager, batch.origin, batch.ids);
      if (inBatch !== undefined) {
        resolved.managerId = batch.ids.get(inBatch) as string;
        if (batch.phantom.has(inBatch)) resolved.managerPlanned = true;
      } else {
        const lookup = lookupOf(row.manager, 'userName');
        const asKey = typeof row.manager === 'string' && lookup.by === 'userName' ? managers.get(`external:${pairKey({ origin: batch.origin, key: row.manager })}`) : undefined;
        const id = lookup.by === 'id' ? lookup.value : (asKey ?? managers.get(`${lookup.by === 'name' ? 'userName' : lookup.by}:${lookup.value}`));
        if (id === undefined) throw new AppError('user.manager_not_found', `No user ${describe(row.manager)} in this tenant (nor a row of this request with that key).`, [{ field: '/body/manager', message: 'no such user' }]);
        resolved.managerId = id;
      }
    }
  }
  for (const field of ['position', 'area'] as const) {
    const ref = row[field];
    if (ref === undefined) continue;
    resolved[`${field}Id`] = ref === null ? null : pick(tables, field, ref, `/body/${field}`);
  }
  for (const field of ['groups', 'roles', 'organizations'] as const) {
    const refs = row[field];
    if (refs !== undefined) resolved.memberships[field] = refs.map((ref, i) => ({ targetId: pick(tables, field, ref, `/body/${field}/${i}`) }));
  }
  if (row.environments !== undefined) {
    resolved.memberships.environments = row.environments.map((e, i) => ({
      targetId: pick(tables, 'environments', e.environment, `/body/environments/${i}/environment`),
      permissions: e.permissions as EnvironmentPermission[] | undefined,
    }));
  }
  for (const [field, desired] of Object.entries(resolved.memberships)) refuseRepeats(field, desired);
  return resolved;
}

/** A list naming one record twice (by name and by id, say) is an error of the row, pointing at the repeat. */
function refuseRepeats(field: string, desired: readonly DesiredMembership[]): void {
  const first = new Map<string, number>();
  desired.forEach((d, i) => {
    const earlier = first.get(d.targetId);
    if (earlier === undefined) return void first.set(d.targetId, i);
    const pointer = field === 'environments' ? `/body/environments/${i}/environment` : `/body/${field}/${i}`;
    const label = TARGETS[field as TargetField].kind.replaceAll('_', ' ');
    throw new AppError('request.validation_failed', `${field}[${i}] names the same ${label} as ${field}[${earlier}] (${d.targetId}); each at most once.`, [{ field: pointer, message: `repeats ${field}[${earlier}]` }]);
  });
}

/** The one id a reference found, or the row's error naming the field. */
function pick(tables: Map<TargetField, Map<string, string | string[]>>, field: TargetField, ref: Reference, pointer: string): string {
  const lookup = lookupOf(ref, field === 'organizations' ? 'code' : 'name');
  const found = tables.get(field)?.get(`${lookup.by}:${lookup.value}`);
  const label = TARGETS[field].kind.replaceAll('_', ' ');
  if (found === undefined || (Array.isArray(found) && found.length === 0)) {
    throw new AppError('bulk.reference_not_found', `No ${label} ${describe(ref)} in this tenant.`, [{ field: pointer, message: `no such ${label}` }]);
  }
  if (Array.isArray(found)) {
    if (found.length === 1) return found[0] as string;
    throw new AppError('bulk.reference_ambiguous', `${found.length} ${label}s are named ${describe(ref)}; refer to one by id.`, [{ field: pointer, message: `names ${found.length} records` }]);
  }
  return found;
}
