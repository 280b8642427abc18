import { sql, type ExpressionBuilder, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, JobTable } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';
import type { Job, JobStatus } from '../domain/job.js';

/** Who may see a job: a tenant's own jobs, and system jobs (no tenant) when `includeSystem`. */
export interface JobScope {
  tenantId: string;
  includeSystem: boolean;
}

export interface JobListQuery {
  status?: JobStatus | undefined;
  type?: string | undefined;
  /** Newest first: jobs with an id lower than this one. */
  before?: string | undefined;
  limit: number;
}

export interface ClaimRequest {
  /** The runner's id, stored as lease_owner. */
  owner: string;
  /** ISO-8601 "now" of the runner's clock. */
  now: string;
  /** ISO-8601 end of the lease granted to the claimed jobs. */
  leaseExpiresAt: string;
  limit: number;
  /** Only these types; every type when omitted. */
  types?: readonly string[] | undefined;
}

/** `status in ('queued', 'running')` as literals: PostgreSQL infers a partial index only from a predicate it can prove. */
const UNFINISHED = sql<boolean>`status in ('queued', 'running')`;

/**
 * The `jobs` table. Claiming uses a lease: a runner owns a running job until `lease_expires_at`;
 * every write of a runner (heartbeat, progress, complete, retry, fail) is conditional on still
 * owning it (`lease_owner = owner and status = 'running'`) and reports whether it applied, so a
 * worker whose lease expired and was taken over can never overwrite the new owner's outcome.
 */
export class JobRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * Inserts the job, or, when its unique key is held by an unfinished job, inserts nothing and
   * returns that job (`inserted: false`). ON CONFLICT DO NOTHING on the partial unique index
   * makes concurrent enqueues of one key safe on both databases (PostgreSQL waits for the other
   * inserting transaction, then skips).
   */
  async insert(job: Job): Promise<{ job: Job; inserted: boolean }> {
    // A holder can finish between our conflict and our read: then the key is free, try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.db
        .insertInto('jobs')
        .values(toRow(job))
        .onConflict((oc) => oc.column('unique_key').where(UNFINISHED).doNothing())
        .executeTakeFirst();
      if (result.numInsertedOrUpdatedRows !== 0n || job.uniqueKey === null) return { job, inserted: true };
      const holder = await this.db.selectFrom('jobs').selectAll().where('unique_key', '=', job.uniqueKey).where(UNFINISHED).executeTakeFirst();
      if (holder) return { job: toJob(holder, this.dialect), inserted: false };
    }
    throw new Error(`job unique key ${job.uniqueKey} keeps changing hands; enqueue again`);
  }

  /**
   * Takes up to `limit` claimable jobs for `owner`, oldest `run_at` first: queued jobs that are
   * due, and running jobs whose lease expired (their runner died). Each claim counts an attempt.
   * PostgreSQL: the candidates are locked FOR UPDATE SKIP LOCKED, so concurrent runners take
   * disjoint sets without waiting on each other; the outer condition is checked again on the
   * locked row. SQLite: one writer at a time, so the same statement needs no lock clause.
   */
  async claim(request: ClaimRequest): Promise<Job[]> {
    const { now } = request;
    if (request.limit <= 0 || request.types?.length === 0) return [];
    const claimable = (eb: ExpressionBuilder<DB, 'jobs'>) =>
      eb.or([
        eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
        eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', now)]),
      ]);
    let candidates = this.db.selectFrom('jobs').select('id').where(claimable).orderBy('run_at').orderBy('id').limit(request.limit);
    if (request.types !== undefined) candidates = candidates.where('type', 'in', [...request.types]);
    if (this.dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
    // The candidates are picked ONCE, in a materialized CTE. As `WHERE id IN (SELECT … LIMIT n FOR
    // UPDATE SKIP LOCKED)`, PostgreSQL may run the subquery again during the update and, skipping
    // the rows it has just locked, return others: a runner then claimed more jobs than its slots
    // (seen: 8 claimed with 4 slots, test/service/job-processes.test.ts).
    const rows = await this.db
      .with((wb) => wb('candidates').materialized(), () => candidates)
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        lease_owner: request.owner,
        lease_expires_at: request.leaseExpiresAt,
        attempts: eb('attempts', '+', 1),
        started_at: now,
        updated_at: now,
      }))
      .where('id', 'in', (eb) => eb.selectFrom('candidates').select('candidates.id'))
      .where(claimable)
      .returningAll()
      .execute();
    return rows.map((row) => toJob(row, this.dialect)).sort((a, b) => (a.runAt < b.runAt ? -1 : a.runAt > b.runAt ? 1 : a.id < b.id ? -1 : 1));
  }

  /** Extends the lease to `leaseExpiresAt` if `owner` still holds it; false when it was lost. */
  async heartbeat(id: string, owner: string, leaseExpiresAt: string, now: string): Promise<boolean> {
    return this.owned(id, owner, { lease_expires_at: leaseExpiresAt, updated_at: now });
  }

  /** Records the handler's progress (any JSON) if `owner` still holds the lease. */
  async progress(id: string, owner: string, progress: unknown, now: string): Promise<boolean> {
    return this.owned(id, owner, { progress: toJson(progress ?? null), updated_at: now });
  }

  /** Marks the job succeeded with its result; false when `owner` no longer holds it. */
  async complete(id: string, owner: string, result: unknown, now: string): Promise<boolean> {
    const outcome = { status: 'succeeded', result: toJson(result ?? null), finished_at: now, updated_at: now };
    return this.owned(id, owner, { ...outcome, lease_owner: null, lease_expires_at: null });
  }

  /** Puts the job back in the queue for another attempt at `runAt`; false when `owner` no longer holds it. */
  async retry(id: string, owner: string, runAt: string, lastError: string, now: string): Promise<boolean> {
    return this.owned(id, owner, { status: 'queued', run_at: runAt, last_error: lastError, lease_owner: null, lease_expires_at: null, updated_at: now });
  }

  /** Marks the job dead (no further attempts) with its last error; false when `owner` no longer holds it. */
  async fail(id: string, owner: string, lastError: string, now: string): Promise<boolean> {
    return this.owned(id, owner, { status: 'dead', last_error: lastError, lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now });
  }

  async findById(scope: JobScope, id: string): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).where((eb) => visibleTo(eb, scope)).executeTakeFirst();
    return row && toJob(row, this.dialect);
  }

  /** Newest first (ids are UUIDv7), keyset-paged by id. */
  async list(scope: JobScope, query: JobListQuery): Promise<Job[]> {
    let q = this.db.selectFrom('jobs').selectAll().where((eb) => visibleTo(eb, scope));
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    if (query.before !== undefined) q = q.where('id', '<', query.before);
    return (await q.orderBy('id', 'desc').limit(query.limit).execute()).map((row) => toJob(row, this.dialect));
  }

  /** One conditional UPDATE: applies only while `owner` holds the running job's lease. */
  private async owned(id: string, owner: string, set: Updateable<JobTable>): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set(set)
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function visibleTo(eb: ExpressionBuilder<DB, 'jobs'>, scope: JobScope) {
  return scope.includeSystem ? eb.or([eb('tenant_id', '=', scope.tenantId), eb('tenant_id', 'is', null)]) : eb('tenant_id', '=', scope.tenantId);
}

function toRow(job: Job) {
  return {
    id: job.id,
    tenant_id: job.tenantId,
    type: job.type,
    payload: toJson(job.payload ?? null),
    status: job.status,
    unique_key: job.uniqueKey,
    run_at: job.runAt,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    lease_owner: job.leaseOwner,
    lease_expires_at: job.leaseExpiresAt,
    last_error: job.lastError,
    progress: job.progress === null || job.progress === undefined ? null : toJson(job.progress),
    result: job.result === null || job.result === undefined ? null : toJson(job.result),
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
  };
}

/**
 * JSON columns: text on SQLite; on PostgreSQL jsonb arrives parsed, and a JSON string scalar
 * (a handler may return one) must not be parsed a second time, so the dialect decides.
 */
function readJson(value: unknown, dialect: Dialect): unknown {
  return dialect === 'postgres' ? (value ?? null) : parseJson<unknown>(value, null);
}

function toJob(row: Selectable<JobTable>, dialect: Dialect): Job {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    payload: readJson(row.payload, dialect),
    status: row.status as JobStatus,
    uniqueKey: row.unique_key,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    lastError: row.last_error,
    progress: readJson(row.progress, dialect),
    result: readJson(row.result, dialect),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
