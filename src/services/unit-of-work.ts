import { AppError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { DIRECTORY, type DirectoryDefinition, type DirectoryKind } from '../domain/directory.js';
import type { DomainEvent } from '../domain/event.js';
import type { Job, NewJob } from '../domain/job.js';
import type { Principal } from '../domain/principal.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { Repositories, Store, TransactionControl } from '../repositories/store.js';
import { toAttributeDefinition, type AttributeDefinition } from './attribute-rules.js';

/** More attribute definitions than a tenant can sensibly have; a unit loads them all once. */
const MAX_ATTRIBUTE_DEFINITIONS = 1000;

/**
 * What a command did: its value (the record as it now is, a summary of a change…) and the
 * events that describe it. The unit appends the events in the same transaction as the change.
 */
export interface CommandResult<T> {
  value: T;
  events: DomainEvent[];
}

/** A write rule: runs inside the caller's unit and reports what it changed. */
export type Command<T> = (unit: UnitOfWork) => Promise<CommandResult<T>>;

/** The outcome of one row of a batch: applied whole, or failed alone with nothing of it applied. */
export type RowOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Tenant facts a unit needs again and again, loaded at most once per unit: every user write of
 * a 1,000-row chunk shares one load of the attribute definitions and one lookup per referenced
 * directory record. Read through the unit's own repositories, so they see its writes' snapshot.
 */
export class TenantContext {
  private definitions: Promise<AttributeDefinition[]> | undefined;
  private readonly known = new Map<DirectoryKind, Set<string>>();

  constructor(
    private readonly repos: Repositories,
    readonly tenantId: string,
  ) {}

  /**
   * The tenant's attribute definitions (src/services/attribute-rules.ts), loaded once. The unit
   * holds them (a shared `attribute-definitions` lock until it ends): a definition change waits
   * for the writes that checked against the old rules, and later writes see the new ones.
   */
  attributeDefinitions(): Promise<AttributeDefinition[]> {
    this.definitions ??= this.repos.locks
      .acquireShared(this.tenantId, 'attribute-definitions')
      .then(() => this.repos.directory.listAll(DIRECTORY.attribute_definition, this.tenantId, MAX_ATTRIBUTE_DEFINITIONS))
      .then((records) => records.map(toAttributeDefinition));
    return this.definitions;
  }

  /** Forget the definitions (a command of this unit changed them). */
  invalidateAttributeDefinitions(): void {
    this.definitions = undefined;
  }

  /**
   * Which of `ids` are records of `def` in the tenant; ids found once are remembered for the
   * unit. A write is about to reference them, so they stay locked against deletion until the
   * unit ends (DirectoryRepository.existingIds with `lock`): what was found is still there at commit.
   */
  async existingIds(def: DirectoryDefinition, ids: readonly string[]): Promise<Set<string>> {
    const known = this.known.get(def.kind) ?? new Set<string>();
    this.known.set(def.kind, known);
    const unknown = [...new Set(ids)].filter((id) => !known.has(id));
    if (unknown.length > 0) for (const id of await this.repos.directory.existingIds(def, this.tenantId, unknown, true)) known.add(id);
    return new Set(ids.filter((id) => known.has(id)));
  }

  /** Forget everything: a row that used this context was rolled back to its savepoint. */
  reset(): void {
    this.definitions = undefined;
    this.known.clear();
  }

  /** A record of this kind was deleted by this unit: stop vouching for it. */
  forget(kind: DirectoryKind, id: string): void {
    this.known.get(kind)?.delete(id);
  }
}

/**
 * One transaction's worth of work (as Outline's commands run inside the caller's transaction):
 * the transaction's repositories, who is acting, the clock, and the tenant context. A single
 * request, a 1,000-row bulk chunk, a SCIM /Bulk request and a scheduled job all run the same
 * commands through a unit; only the size of the unit differs.
 */
export class UnitOfWork {
  readonly context: TenantContext;

  constructor(
    readonly repos: Repositories,
    readonly principal: Principal,
    readonly clock: Clock,
    private readonly tx: TransactionControl,
    private readonly queue: JobQueue,
  ) {
    this.context = new TenantContext(repos, principal.tenantId);
  }

  /**
   * Queues background work in this unit's transaction: the job exists exactly when the change
   * that caused it commits (and a row rolled back to its savepoint takes its job with it).
   * The job belongs to the unit's tenant unless it says otherwise.
   */
  enqueue(job: NewJob): Promise<Job> {
    return this.queue.enqueue(this.repos, { tenantId: this.tenantId, ...job });
  }

  get tenantId(): string {
    return this.principal.tenantId;
  }

  /** The current time as stored (ISO-8601, UTC). */
  now(): string {
    return this.clock.now().toISOString();
  }

  /** Runs a command and appends its events; the change and its events commit together. */
  async execute<T>(command: Command<T>): Promise<T> {
    const { value, events } = await command(this);
    await this.repos.events.append(events);
    return value;
  }

  /**
   * Runs a command as one row of a batch, inside a savepoint: if it fails, nothing it wrote
   * (events included) survives, the error is returned, and the unit goes on with the next row.
   */
  async attempt<T>(command: Command<T>): Promise<RowOutcome<T>> {
    try {
      return { ok: true, value: await this.tx.savepoint(() => this.execute(command)) };
    } catch (error) {
      // What the row looked up or changed is gone with its savepoint: so is what it cached.
      this.context.reset();
      if (!(error instanceof AppError)) throw error; // a bug or a lost database is not a row error
      return { ok: false, error };
    }
  }
}

/**
 * Opens units: `run` for one command in its own transaction (what a single request needs),
 * `batch` for many in one transaction with a savepoint per row.
 */
export class UnitRunner {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly queue: JobQueue,
  ) {}

  /** One command, one transaction: the service method behind a single request. */
  run<T>(principal: Principal, command: Command<T>): Promise<T> {
    return this.store.transaction((repos, tx) => new UnitOfWork(repos, principal, this.clock, tx, this.queue).execute(command));
  }

  /** Any work in one unit (several commands, or commands and reads), committed together. */
  within<T>(principal: Principal, work: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    return this.store.transaction((repos, tx) => work(new UnitOfWork(repos, principal, this.clock, tx, this.queue)));
  }

  /**
   * Many commands in ONE transaction, each row in its own savepoint: a row that fails (any
   * AppError: validation, conflict, not found…) leaves nothing behind and does not affect the
   * others; the outcomes come back in input order. Errors that are not AppErrors abort the
   * whole unit (nothing is committed).
   */
  batch<T>(principal: Principal, commands: readonly Command<T>[]): Promise<RowOutcome<T>[]> {
    return this.within(principal, async (unit) => {
      const outcomes: RowOutcome<T>[] = [];
      for (const command of commands) outcomes.push(await unit.attempt(command));
      return outcomes;
    });
  }
}
