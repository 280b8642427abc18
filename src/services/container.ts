import type { Config } from '../config.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { Clock } from '../lib/clock.js';
import type { SecretHasher } from '../lib/secrets.js';
import type { Store } from '../repositories/store.js';
import { ApiTokenService } from './api-token-service.js';
import { BulkService } from './bulk-service.js';
import { SyncService } from './sync-service.js';
import { ClientService } from './client-service.js';
import { DirectoryService } from './directory-service.js';
import { EventService } from './event-service.js';
import { HealthService } from './health-service.js';
import { IdempotencyService } from './idempotency-service.js';
import { IdentityService } from './identity-service.js';
import { JobService } from './job-service.js';
import { MembershipService } from './membership-service.js';
import { SigningKeyService } from './signing-key-service.js';
import { TenantService } from './tenant-service.js';
import { TokenService } from './token-service.js';
import { UnitRunner } from './unit-of-work.js';
import { ScimService } from './scim-service.js';
import { UserService } from './user-service.js';

export interface Services {
  store: Store;
  health: HealthService;
  /** Opens units of work: the way every write runs its commands (src/services/unit-of-work.ts). */
  units: UnitRunner;
  tenants: TenantService;
  clients: ClientService;
  apiTokens: ApiTokenService;
  signingKeys: SigningKeyService;
  tokens: TokenService;
  users: UserService;
  /** Bulk upsert by external key and bulk disable, in chunks of one unit each. */
  bulk: BulkService;
  /** Directory sync runs: receive a snapshot, plan, review, apply as a job. */
  sync: SyncService;
  events: EventService;
  idempotency: IdempotencyService;
  memberships: MembershipService;
  identities: IdentityService;
  directory: DirectoryService;
  jobs: JobService;
  /** The writes of the SCIM adapter that compose commands (a user and its password, a group and its members). */
  scim: ScimService;
  /** Where services enqueue background work (the same object as ServiceDeps.queue). */
  queue: JobQueue;
}

/** The side effects every service may need, injected so tests can replace any of them. */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  hasher: SecretHasher;
  /** Background work: `queue.enqueue(repos, job)` inside the caller's transaction. */
  queue: JobQueue;
  config: Pick<Config, 'issuer' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds' | 'signingKeyRotationDays'> & Partial<Pick<Config, 'idempotencyAbandonedSeconds'>>;
}

export function createServices({ store, clock, hasher, queue, config }: ServiceDeps): Services {
  const apiTokens = new ApiTokenService(store, clock);
  const units = new UnitRunner(store, clock, queue);
  const bulk = new BulkService(store, units);
  const signingKeys = new SigningKeyService(store, clock, { rotationDays: config.signingKeyRotationDays, accessTokenTtlSeconds: config.accessTokenTtlSeconds });
  return {
    store,
    tenants: new TenantService(store, clock),
    clients: new ClientService(store, hasher, clock),
    apiTokens,
    signingKeys,
    tokens: new TokenService(store, signingKeys, apiTokens, hasher, clock, config),
    health: new HealthService(store),
    units,
    users: new UserService(store, units),
    bulk,
    sync: new SyncService(store, units, bulk, clock),
    events: new EventService(store),
    idempotency: new IdempotencyService(store, clock, (config.idempotencyAbandonedSeconds ?? 60) * 1000),
    memberships: new MembershipService(store, units),
    identities: new IdentityService(store, units),
    directory: new DirectoryService(store, units),
    jobs: new JobService(store),
    scim: new ScimService(store, units, hasher),
    queue,
  };
}
