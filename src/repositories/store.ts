import type { Kysely } from 'kysely';
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
import { MembershipRepository } from './membership-repository.js';
import { OAuthTokenRepository } from './oauth-token-repository.js';
import { SigningKeyRepository } from './signing-key-repository.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';
import { TenantRepository } from './tenant-repository.js';
import { UserExpandRepository } from './user-expand-repository.js';
import { UserRepository } from './user-repository.js';

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
}

/**
 * What services see of persistence: repositories outside a transaction, and `transaction()` for
 * writes that must be atomic (a change and its event). Services never touch Kysely directly.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly repos: Repositories;
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
}

function bindRepositories(db: Kysely<DB>, dialect: Dialect): Repositories {
  return {
    tenants: new TenantRepository(db),
    clients: new ApiClientRepository(db),
    apiTokens: new ApiTokenRepository(db),
    oauthTokens: new OAuthTokenRepository(db),
    signingKeys: new SigningKeyRepository(db),
    users: new UserRepository(db, dialect),
    events: new EventRepository(db),
    idempotency: new IdempotencyRepository(db),
    memberships: new MembershipRepository(db, dialect),
    identities: new IdentityRepository(db),
    directory: new DirectoryRepository(db, dialect),
    userExpand: new UserExpandRepository(db),
    attributeIndexes: new AttributeIndexRepository(db, dialect),
    jobs: new JobRepository(db, dialect),
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
      try {
        if (groupCommit) return await groupCommit.run((trx) => work(bindRepositories(trx, dialect)));
        return await db.transaction().execute((trx) => work(bindRepositories(trx, dialect)));
      } catch (error) {
        throw mapConstraintError(error) ?? error;
      }
    },
    async ping() {
      await db.selectFrom('tenants').select('id').limit(1).execute();
    },
  };
}
