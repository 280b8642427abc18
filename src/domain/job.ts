/**
 * Durable background jobs: the types every layer shares and the retry rule. The table and its
 * guarantees are described in docs/ARCHITECTURE.md ("Jobs").
 */

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'dead', 'cancelled'] as const;
/**
 * queued: waiting for `runAt`; running: claimed by a runner holding the lease; succeeded and
 * dead (attempts used up, or no handler) are final, as is cancelled.
 */
export type JobStatus = (typeof JOB_STATUSES)[number];

export const isJobStatus = (value: string): value is JobStatus => (JOB_STATUSES as readonly string[]).includes(value);

/** A job as stored. Timestamps are ISO-8601 strings (UTC). */
export interface Job {
  /** UUIDv7: ordering by id is ordering by time of enqueueing. */
  id: string;
  /** Null for system jobs (housekeeping). */
  tenantId: string | null;
  type: string;
  /** Internal input of the handler; never shown by the API (it may hold secrets). */
  payload: unknown;
  status: JobStatus;
  uniqueKey: string | null;
  /** Not claimed before this time. After a failure: the time of the next attempt. */
  runAt: string;
  /** Attempts started so far (a claim counts one, including the reclaim of an expired lease). */
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  /** The error of the latest failed attempt, clipped to MAX_ERROR_LENGTH characters. */
  lastError: string | null;
  /** Whatever the handler last reported through `progress()`. */
  progress: unknown;
  /** What the handler returned, once succeeded. */
  result: unknown;
  createdAt: string;
  updatedAt: string;
  /** Start of the latest attempt. */
  startedAt: string | null;
  /** When the job reached a final status. */
  finishedAt: string | null;
}

/** What a caller enqueues. */
export interface NewJob {
  type: string;
  /** Omit for system jobs. */
  tenantId?: string | null;
  /** JSON-serialisable input of the handler. */
  payload: unknown;
  /** ISO-8601; defaults to now. */
  runAt?: string;
  /**
   * Idempotent enqueueing: while a job with this key is queued or running, enqueueing the key
   * again returns that job and inserts nothing. Keys are global, not per tenant: a tenant's
   * job puts the tenant id in its key (e.g. `offboard:<tenantId>:<userId>`).
   */
  uniqueKey?: string;
  /** Defaults to DEFAULT_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
/** Longer error messages (stack traces, whole response bodies) are clipped to this many characters. */
export const MAX_ERROR_LENGTH = 2000;

/** The first retry waits this long (milliseconds); each further one twice as long as the one before. */
export const BACKOFF_BASE_MS = 10_000;
/** No retry waits longer than this (milliseconds): one hour. */
export const BACKOFF_CAP_MS = 3_600_000;

/**
 * Exponential backoff: the delay in milliseconds before the next attempt, after `attempt`
 * attempts (1-based) have failed: 10 s, 20 s, 40 s, … capped at one hour. Deterministic (no
 * jitter): jobs fail at scattered times already, and tests can predict `runAt`.
 */
export function backoffMs(attempt: number): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** exponent);
}

/** The error text stored as `lastError`: name and message, clipped. */
export function describeJobError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/** The job of an asynchronous bulk upsert (POST /v1/users/bulk with more than 10,000 rows or ?async=true). */
export const BULK_UPSERT_JOB = 'users.bulk-upsert';
/** The job that applies a directory sync run's plan. */
export const SYNC_APPLY_JOB = 'sync-run.apply';
/**
 * Jobs a `users:read` credential may follow (GET /v1/jobs/{id}): the ones user writes start.
 * Every other job (housekeeping…) stays for admins.
 */
export const USER_JOB_TYPES: readonly string[] = [BULK_UPSERT_JOB, SYNC_APPLY_JOB];
