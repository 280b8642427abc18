import { AppError } from '../errors/app-error.js';
import { DIRECTORY, type DirectoryDefinition, type DirectoryRecord } from '../domain/directory.js';
import type { Principal } from '../domain/principal.js';
import type { ListQuery } from '../domain/list-query.js';
import type { DirectoryPage } from '../repositories/directory-repository.js';
import type { Store } from '../repositories/store.js';
import { attributeIndexTarget, toAttributeDefinition } from './attribute-rules.js';
import { createRecord, label, updateRecord, type RecordChange } from './commands/directory-commands.js';
import { deleteRecord } from './commands/delete-record-command.js';
import type { ExpectedVersion } from './commands/user-checks.js';
import { patchedInput } from './directory-rules.js';
import type { UnitRunner } from './unit-of-work.js';

const ATTRIBUTE_NAME = new RegExp(DIRECTORY.attribute_definition.fields.name?.pattern ?? '^$');

export { label } from './commands/directory-commands.js';

/**
 * Create, read, change and delete any directory kind; the definition says what differs. Writes
 * run the directory commands (src/services/commands) in a unit each; after the commit, a kind
 * that defines user attributes keeps the attribute expression indexes in step.
 */
export class DirectoryService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
  ) {}

  async create(principal: Principal, def: DirectoryDefinition, input: Record<string, unknown>): Promise<DirectoryRecord> {
    return this.afterCommit(def, await this.withIndexFirst(def, input, () => this.units.run(principal, createRecord(def, input))));
  }

  async get(principal: Principal, def: DirectoryDefinition, id: string): Promise<DirectoryRecord> {
    const record = await this.store.repos.directory.findById(def, principal.tenantId, id);
    if (!record) throw new AppError(def.notFound, `No ${label(def)} with id ${id}.`);
    return record;
  }

  /** One page of a kind's records for a protocol-neutral query (see UserService.list). */
  async list(principal: Principal, def: DirectoryDefinition, query: ListQuery): Promise<DirectoryPage> {
    return this.store.repos.directory.list(def, principal.tenantId, query);
  }

  async replace(principal: Principal, def: DirectoryDefinition, id: string, input: Record<string, unknown>, expected: ExpectedVersion): Promise<DirectoryRecord> {
    return this.afterCommit(def, await this.withIndexFirst(def, input, () => this.units.run(principal, updateRecord(def, id, expected, () => input, true))));
  }

  async patch(principal: Principal, def: DirectoryDefinition, id: string, patch: Record<string, unknown>, expected: ExpectedVersion): Promise<DirectoryRecord> {
    const current = def.definesUserAttributes ? await this.store.repos.directory.findById(def, principal.tenantId, id) : null;
    const planned = current ? patchedInput(def, current, patch) : undefined;
    const write = () => this.units.run(principal, updateRecord(def, id, expected, (stored) => patchedInput(def, stored, patch), false));
    return this.afterCommit(def, await this.withIndexFirst(def, planned, write));
  }

  /** Deleting what users depend on (see deleteRecord): refused while in use; memberships and links go with it. */
  async delete(principal: Principal, def: DirectoryDefinition, id: string, expected: ExpectedVersion): Promise<void> {
    const deleted = await this.units.run(principal, deleteRecord(def, id, expected));
    await this.syncAttributeIndex(def, deleted, null);
  }

  async descendants(principal: Principal, def: DirectoryDefinition, id: string): Promise<{ record: DirectoryRecord; depth: number }[]> {
    await this.get(principal, def, id);
    return this.store.repos.directory.descendants(def, principal.tenantId, id);
  }

  /**
   * An attribute definition that asks for an index gets it BEFORE the definition is written, so a
   * build that fails leaves no trace: no definition marked indexed without its index, no event,
   * no invalid index (the repository drops the remains). A write that then fails drops an index
   * this call built, unless another definition wants it. `planned` is the input the write will
   * store (for a patch: the stored record merged with the patch).
   */
  private async withIndexFirst(def: DirectoryDefinition, planned: Record<string, unknown> | undefined, write: () => Promise<RecordChange>): Promise<RecordChange> {
    const target = def.definesUserAttributes && planned ? attributeIndexTarget(toAttributeDefinition(planned as DirectoryRecord)) : undefined;
    // A name the definition rules refuse is the write's to report.
    if (!target || !ATTRIBUTE_NAME.test(target.name)) return write();
    const indexes = this.store.repos.attributeIndexes;
    let built: boolean;
    try {
      built = await indexes.ensure(target.name, target.type);
    } catch (error) {
      const failed = new AppError('attribute_definition.index_failed', `The index for attribute ${JSON.stringify(target.name)} could not be built, so the definition was not changed; retry later.`);
      throw Object.assign(failed, { cause: error });
    }
    try {
      return await write();
    } catch (error) {
      if (built) await indexes.dropUnlessUsed(target.name, target.type).catch(() => undefined);
      throw error;
    }
  }

  private async afterCommit(def: DirectoryDefinition, change: RecordChange): Promise<DirectoryRecord> {
    await this.syncAttributeIndex(def, change.before, change.after);
    return change.after;
  }

  /**
   * Keeps the expression index of an indexed attribute in step with its definition: created
   * (if not there) whenever the definition is written with indexed=true, even unchanged, so a
   * retry heals a failed build; dropped when no definition of any tenant wants it any more.
   *
   * Runs AFTER the write committed, on the store's own connection: on SQLite the transaction
   * holds the only connection (DDL through store.repos inside it would wait for itself), and on
   * PostgreSQL the index is built CONCURRENTLY, which cannot run in a transaction and does not
   * lock users against writes while it builds. withIndexFirst has built the index already; this
   * only repairs one dropped in between by a concurrent change, and drops what is not wanted.
   */
  private async syncAttributeIndex(def: DirectoryDefinition, before: DirectoryRecord | null, after: DirectoryRecord | null): Promise<void> {
    if (!def.definesUserAttributes) return;
    const wanted = attributeIndexTarget(after ? toAttributeDefinition(after) : undefined);
    const had = attributeIndexTarget(before ? toAttributeDefinition(before) : undefined);
    const indexes = this.store.repos.attributeIndexes;
    if (wanted) await indexes.ensure(wanted.name, wanted.type);
    if (had && !(wanted && wanted.name === had.name && wanted.type === had.type)) await indexes.dropUnlessUsed(had.name, had.type);
  }
}
