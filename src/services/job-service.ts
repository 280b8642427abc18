import { AppError } from '../errors/app-error.js';
import { isUuid } from '../lib/ids.js';
import type { Job, JobStatus } from '../domain/job.js';
import { isInstallationAdmin, type Principal } from '../domain/principal.js';
import type { JobScope } from '../repositories/job-repository.js';
import type { Store } from '../repositories/store.js';

export interface JobPage {
  items: Job[];
  /** The id of the last job of a full page; null on the last page. */
  nextCursor: string | null;
}

export interface JobListQuery {
  limit: number;
  cursor?: string | undefined;
  status?: JobStatus | undefined;
  type?: string | undefined;
}

/**
 * Read-only views of the job table for admins. A tenant sees its own jobs; installation admins
 * (admins of the default tenant) also see system jobs such as housekeeping, which have no tenant.
 */
export class JobService {
  constructor(private readonly store: Store) {}

  /** Newest first, keyset-paged: the cursor is the id of the last job returned (UUIDv7). */
  async list(principal: Principal, query: JobListQuery): Promise<JobPage> {
    if (query.cursor !== undefined && !isUuid(query.cursor)) throw new AppError('request.invalid_cursor', 'The cursor must be a value returned as nextCursor.');
    const rows = await this.store.repos.jobs.list(scopeOf(principal), { status: query.status, type: query.type, before: query.cursor, limit: query.limit + 1 });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? last.id : null };
  }

  /** @throws AppError job.not_found, also for another tenant's job. */
  async get(principal: Principal, id: string): Promise<Job> {
    const job = await this.store.repos.jobs.findById(scopeOf(principal), id);
    if (!job) throw new AppError('job.not_found', `No job with id ${id}.`);
    return job;
  }
}

const scopeOf = (principal: Principal): JobScope => ({ tenantId: principal.tenantId, includeSystem: isInstallationAdmin(principal) });
