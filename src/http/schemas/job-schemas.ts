import { Type } from '@sinclair/typebox';
import { JOB_STATUSES } from '../../domain/job.js';
import { Nullable, PageSizeQuery, Timestamp, Uuid } from './common-schemas.js';

const JobStatusSchema = Type.Union(
  JOB_STATUSES.map((s) => Type.Literal(s)),
  { description: 'queued (waiting for runAt), running (leased by a runner), succeeded, dead (attempts used up; see lastError), cancelled.' },
);

/** A background job as admins see it; the payload is internal and never shown. */
export const JobSchema = Type.Object({
  id: Uuid,
  type: Type.String({ description: 'The job type, e.g. housekeeping.' }),
  status: JobStatusSchema,
  attempts: Type.Integer({ description: 'Attempts started so far.' }),
  maxAttempts: Type.Integer(),
  runAt: Timestamp,
  createdAt: Timestamp,
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  updatedAt: Timestamp,
  lastError: Nullable(Type.String({ description: 'The error of the latest failed attempt.' })),
  progress: Type.Unknown({ description: 'What the job last reported as its progress, or null.' }),
  result: Type.Unknown({ description: 'What the job returned once succeeded, or null.' }),
}, { 'x-component': 'Job' });

export const JobListQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' })),
    status: Type.Optional(JobStatusSchema),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
