import { AppError } from '../../errors/app-error.js';
import { newId } from '../../lib/ids.js';
import { DIRECTORY, secretsFields, type DirectoryDefinition, type DirectoryRecord } from '../../domain/directory.js';
import { diffFields, type DomainEvent } from '../../domain/event.js';
import { newEvent } from '../event-factory.js';
import { publicView } from '../../domain/directory-view.js';
import { buildRecord } from '../directory-rules.js';
import { checkExpectedVersion, type ExpectedVersion } from './user-checks.js';
import type { Command, UnitOfWork } from '../unit-of-work.js';

export const label = (def: DirectoryDefinition): string => def.kind.replaceAll('_', ' ');

/** What a directory write did: the record before (null on create) and after. */
export interface RecordChange {
  before: DirectoryRecord | null;
  after: DirectoryRecord;
}

/**
 * Creates a record of any directory kind from its definition: defaults filled, references
 * checked in the tenant (a parent must not be a descendant), `<kind>.created` with the public
 * view (secrets reduced to their names). Unique names and codes are the database's to enforce.
 * `serverValues` sets server-owned fields (DirectoryField.serverOwned), e.g. a group's provisionedBy.
 */
export function createRecord(def: DirectoryDefinition, input: Record<string, unknown>, serverValues: Record<string, unknown> = {}): Command<RecordChange> {
  return async (unit) => {
    await lockDefinitionsOf(unit, def);
    const now = unit.now();
    const record = buildRecord(def, { ...serverValues, id: newId(), tenantId: unit.tenantId, createdAt: now, version: 1 }, input, now);
    await checkReferences(unit, def, record, null);
    await unit.repos.directory.insert(def, record);
    if (def.definesUserAttributes) unit.context.invalidateAttributeDefinitions();
    return { value: { before: null, after: record }, events: [recordEvent(unit, def, 'created', record.id, null, record)] };
  };
}

/**
 * Changes a record: `change` turns the stored record into the complete input (a PUT body or
 * the merge-patched fields; with `isReplace`, write-only secrets survive when not sent). A write
 * that changes nothing writes nothing and keeps the version. 404, 412 (If-Match), 422 refs.
 */
export function updateRecord(
  def: DirectoryDefinition,
  id: string,
  expected: ExpectedVersion,
  change: (current: DirectoryRecord) => Record<string, unknown>,
  isReplace: boolean,
): Command<RecordChange> {
  return async (unit) => {
    await lockDefinitionsOf(unit, def);
    const current = await loadRecordForWrite(unit, def, id, expected);
    const next = buildRecord(def, current, change(current), unit.now(), isReplace ? current : undefined, current);
    if (Object.keys(diffFields(current, next, Object.keys(def.fields))).length === 0) return { value: { before: current, after: current }, events: [] };
    next.version = current.version + 1;
    await checkReferences(unit, def, next, current);
    // The row is locked (loadRecordForWrite): the version cannot have moved; a safety net.
    if (!(await unit.repos.directory.update(def, next, current.version))) throw new AppError('directory.concurrent_update', `The ${label(def)} was changed concurrently; retry.`);
    if (def.definesUserAttributes) unit.context.invalidateAttributeDefinitions();
    return { value: { before: current, after: next }, events: [recordEvent(unit, def, 'updated', id, current, next)] };
  };
}

/**
 * A kind that defines user attributes changes the rules every user write checks: its writers
 * take the `attribute-definitions` lock exclusively (user writes hold it shared, TenantContext).
 */
export async function lockDefinitionsOf(unit: UnitOfWork, def: DirectoryDefinition): Promise<void> {
  if (def.definesUserAttributes) await unit.repos.locks.acquire(unit.tenantId, 'attribute-definitions');
}

/**
 * The record a write is about, locked until the unit ends on PostgreSQL (`intent`: see
 * DirectoryRepository.findByIdForUpdate); 404 / 412 as for users.
 */
export async function loadRecordForWrite(
  unit: UnitOfWork,
  def: DirectoryDefinition,
  id: string,
  expected: ExpectedVersion,
  intent: 'update' | 'delete' = 'update',
): Promise<DirectoryRecord> {
  const record = await unit.repos.directory.findByIdForUpdate(def, unit.tenantId, id, intent);
  if (!record) throw new AppError(def.notFound, `No ${label(def)} with id ${id}.`);
  checkExpectedVersion(label(def), record.version, expected);
  return record;
}

/** `<kind>.<action>` with the field-level diff of the public views (secrets appear only by name). */
export function recordEvent(unit: UnitOfWork, def: DirectoryDefinition, action: 'created' | 'updated' | 'deleted', id: string, before: DirectoryRecord | null, after: DirectoryRecord | null): DomainEvent {
  const view = (r: DirectoryRecord | null) => r && publicView(def, r);
  const fields = [...Object.keys(def.fields), ...secretsFields(def)];
  return newEvent(unit.principal, unit.clock, `${def.kind}.${action}`, def.kind, id, diffFields(view(before), view(after), fields));
}

/**
 * Reference fields set or changed by the write (`previous`: the stored record, null on create)
 * must name a record of this tenant, held against deletion until the unit ends (unchanged ones
 * are kept valid by their foreign keys); a parent must not be the record or below it. The ancestors are read under the tenant's
 * `tree:<kind>` lock, so two concurrent moves (A under B, B under A) are checked one after the
 * other and the second sees the first: no cycle can be stored.
 */
async function checkReferences(unit: UnitOfWork, def: DirectoryDefinition, record: DirectoryRecord, previous: DirectoryRecord | null): Promise<void> {
  for (const [name, f] of Object.entries(def.fields)) {
    const target = record[name];
    if (f.type !== 'reference' || typeof target !== 'string' || !f.references || previous?.[name] === target) continue;
    const targetDef = DIRECTORY[f.references];
    if (name === 'parentId' && target === record.id) throw new AppError('directory.parent_cycle', `A ${label(def)} cannot be its own parent.`);
    if (name === 'parentId' && def.tree) await unit.repos.locks.acquire(record.tenantId, `tree:${def.kind}`);
    const found = await unit.repos.directory.existingIds(targetDef, record.tenantId, [target], true);
    if (!found.has(target)) {
      throw new AppError('directory.reference_not_found', `No ${label(targetDef)} with id ${target} in this tenant.`, [{ field: `/body/${name}`, message: 'no such record' }]);
    }
    if (name === 'parentId' && def.tree && (await unit.repos.directory.ancestorIds(def, record.tenantId, target)).includes(record.id)) {
      throw new AppError('directory.parent_cycle', `${label(targetDef)} ${target} is below this ${label(def)}; it cannot become its parent.`);
    }
  }
}
