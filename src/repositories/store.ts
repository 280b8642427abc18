import { sql, type Kysely, type Transaction } from 'kysely';
import { AppError } from '../errors/app-error.js';
import type { Database, Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { mapConstraintError } from '../db/constraint-errors.js';
import { ApiClientRepository } from './api-client-repository.js';
import { ApiTokenRepository } from './api-token-repository.js';
import { AttributeIndexRepository } from './attribute-index-repository.js';
import { DirectoryRepository } from './directory-repository.js';
import { EventRepository } from './event-repository.js';
import { IdempotencyRepository } from './idempotency-repository.js';
import { IdentityRepository } from './identity-repository.js';
import { JobRepository } from './job-repository.js';
import { LockRepository } from './lock-repository.js';
import { MembershipRepository } from './membership-repository.js';
import { OAuthTokenRepository } from './oauth-token-repository.js';
import { SigningKeyRepository } from './signing-key-repository.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';
import { TenantRepository } from './tenant-repository.js';
import { UserExpandRepository } from './user-expand-repository.js';
import { UserRepository } from './user-repository.js';
import { SyncRunRepository } from './sync-run-repository.js';
import { BulkJobRepository } from './bulk-job-repository.js';

/** Every repository, bound to one executor (the pool, or one open transaction). */
export interface Repositories {
  tenants: TenantRepository;
  clients: ApiClientRepository;
  apiTokens: ApiTokenRepository;
  oauthTokens: OAuthTokenRepository;
  signingKeys: SigningKeyRepository;
  users: UserRepository;
  events: EventRepository;
  idempotency: IdempotencyRepository;
  memberships: MembershipRepository;
  identities: IdentityRepository;
  directory: DirectoryRepository;
  /** `$expand` loaders for users: one query per relation for a whole page. */
  userExpand: UserExpandRepository;
  /** DDL for indexed attributes: use outside transactions only (see the class comment). */
  attributeIndexes: AttributeIndexRepository;
  /** Durable jobs: enqueue with the caller's transaction; runners claim with a lease. */
  jobs: JobRepository;
  /** Named transaction-scoped locks for read-check-writes that span rows (see lock-repository.ts). */
  locks: LockRepository;
  /** Directory sync runs: runs, snapshot rows, plan items. */
  syncRuns: SyncRunRepository;
  /** Rows and results of asynchronous bulk upserts. */
  bulkJobs: BulkJobRepository;
}

/**
 * Control over the open transaction beyond its repositories: savepoints, so that one row of a
 * batch can fail alone while the rest of the unit commits.
 */
export interface TransactionControl {
  /**
   * Runs `work` inside a SAVEPOINT of the current transaction. When it throws, everything it
   * wrote is rolled back to the savepoint (the transaction stays usable on both databases) and
   * the error is rethrown, with constraint violations already mapped to AppErrors.
   */
  savepoint<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * What services see of persistence: repositories outside a transaction, and `transaction()` for
 * writes that must be atomic (a change and its event). Services never touch Kysely directly.
 *
 * On PostgreSQL a transaction that loses a deadlock or a serialisation check is run again from
 * the start (up to a few times): `work` must therefore do nothing but database work through the
 * repositories it is given, which every unit of work does.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly repos: Repositories;
  transaction<T>(work: (repos: Repositories, tx: TransactionControl) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
}

function bindRepositories(db: Kysely<DB>, dialect: Dialect, unitOfWork = false): Repositories {
  return {
    tenants: new TenantRepository(db),
    clients: new ApiClientRepository(db, dialect),
    apiTokens: new ApiTokenRepository(db),
    oauthTokens: new OAuthTokenRepository(db),
    signingKeys: new SigningKeyRepository(db),
    users: new UserRepository(db, dialect),
    events: new EventRepository(db, dialect, unitOfWork),
    idempotency: new IdempotencyRepository(db),
    memberships: new MembershipRepository(db, dialect),
    identities: new IdentityRepository(db),
    directory: new DirectoryRepository(db, dialect),
    userExpand: new UserExpandRepository(db),
    attributeIndexes: new AttributeIndexRepository(db, dialect),
    jobs: new JobRepository(db, dialect),
    locks: new LockRepository(db, dialect),
    syncRuns: new SyncRunRepository(db, dialect),
    bulkJobs: new BulkJobRepository(db),
  };
}

/** PostgreSQL: deadlock_detected and serialization_failure; the transaction may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
/**
 * Attempts in all. Deadlocks between writers of rows that reference each other (a membership
 * add and a delete of its group, say) are rare but real under load; each retry waits a little
 * longer, with jitter, so the same transactions do not collide again in lockstep.
 */
const MAX_ATTEMPTS = 6;
const retryDelayMs = (attempt: number) => Math.floor(Math.random() * 10 * attempt) + 5 * attempt;

/** Savepoints by plain SQL on the transaction's own connection (both dialects speak it). */
function transactionControl(trx: Kysely<DB>, repos: Repositories): TransactionControl {
  // Named by nesting depth, not by a counter: a released savepoint's name is free again, and the
  // same SQL text reuses its prepared statement (a 1,000-row batch would otherwise prepare 3,000
  // statements and flush the statement cache).
  let depth = 0;
  return {
    async savepoint(work) {
      const name = sql.raw(`row_${depth++}`);
      // Events are queued in memory until the transaction's end (event-repository.ts): a row that
      // fails must take its queued events with it, as the savepoint takes its rows.
      const queued = repos.events.mark();
      await sql`savepoint ${name}`.execute(trx);
      try {
        const value = await work();
        await sql`release savepoint ${name}`.execute(trx);
        return value;
      } catch (error) {
        await sql`rollback to savepoint ${name}`.execute(trx);
        await sql`release savepoint ${name}`.execute(trx);
        repos.events.discardFrom(queued);
        throw mapConstraintError(error) ?? error;
      } finally {
        depth--;
      }
    },
  };
}

export function createStore(database: Database): Store {
  const { db, dialect } = database;
  // SQLite: concurrent write transactions share commits (see sqlite-group-commit.ts).
  // PostgreSQL commits in parallel on its own, so each transaction is a real one.
  const groupCommit = dialect === 'sqlite' ? new SqliteGroupCommit(db) : undefined;
  return {
    dialect,
    repos: bindRepositories(db, dialect),
    async transaction(work) {
      const body = async (trx: Transaction<DB>) => {
        const repos = bindRepositories(trx, dialect, true);
        const result = await work(repos, transactionControl(trx, repos));
        // Events are numbered last, right before COMMIT: their positions follow commit order (event-repository.ts).
        await repos.events.flush();
        return result;
      };
      for (let attempt = 1; ; attempt++) {
        try {
          if (groupCommit) return await groupCommit.run(body);
          return await db.transaction().execute(body);
        } catch (error) {
          const code = (error as { code?: unknown } | null)?.code;
          if (!groupCommit && typeof code === 'string' && RETRYABLE.has(code)) {
            if (attempt >= MAX_ATTEMPTS) throw new AppError('request.conflict', 'The request kept conflicting with concurrent requests; retry it.');
            // A short random pause, so the transactions that collided do not collide again.
            await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
            continue;
          }
          throw mapConstraintError(error) ?? error;
        }
      }
    },
    async ping() {
      await db.selectFrom('tenants').select('id').limit(1).execute();
    },
  };
}
