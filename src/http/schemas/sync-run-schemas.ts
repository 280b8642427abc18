import { Type } from '@sinclair/typebox';
import { SYNC_ACTIONS, SYNC_RUN_STATUSES } from '../../domain/sync-run.js';
import { Nullable, PageSizeQuery, Timestamp, Uuid } from './common-schemas.js';
import { BulkUserRowSchema } from './bulk-schemas.js';

/** Most rows one call carries (more go through a staged run, several calls of rows). */
export const MAX_SYNC_ROWS_PER_CALL = 10_000;

const Origin = Type.String({ minLength: 1, maxLength: 128, description: 'The source whose complete list this is, e.g. "workday".' });
const Rows = Type.Array(BulkUserRowSchema, { maxItems: MAX_SYNC_ROWS_PER_CALL, description: `Rows of the snapshot (at most ${MAX_SYNC_ROWS_PER_CALL} per call), as in POST /v1/users/bulk.` });

const SYNC_OPTIONS = {
  missing: Type.Optional(Type.Union([Type.Literal('suspend'), Type.Literal('ignore')], { description: 'What happens to users of this origin the snapshot omits: suspend them, or ignore them (default).' })),
  maxDeactivations: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000_000 }), Type.String({ pattern: '^(100(\\.0{1,2})?|[0-9]{1,2}(\\.[0-9]{1,2})?)%$' })], {
      description: 'Hold the plan when it suspends more users than this: a count, or a percentage of the origin\'s active users ("5%").',
    }),
  ),
  maxChanges: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Hold the plan when it creates, updates, reactivates and suspends more users than this in all.' })),
};

export const CreateSyncRunBody = Type.Object(
  {
    origin: Origin,
    users: Type.Optional(Rows),
    staged: Type.Optional(Type.Boolean({ description: 'Receive more rows with POST /v1/sync-runs/{id}/users before planning (POST /v1/sync-runs/{id}/plan); default false: plan at once.' })),
    ...SYNC_OPTIONS,
  },
  {
    additionalProperties: false,
    'x-component': 'SyncRunCreate',
    examples: [{ origin: 'workday', missing: 'suspend', maxDeactivations: '5%', users: [{ key: '1815', userName: 'ada@example.com', givenName: 'Ada', title: 'Analyst' }] }],
  },
);

export const AutoApplyQuery = Type.Object(
  { autoApply: Type.Optional(Type.Boolean({ description: 'Apply at once when the plan is not held (202 with the job).' })) },
  { additionalProperties: false },
);

export const AppendRowsBody = Type.Object(
  { users: Rows },
  { additionalProperties: false, 'x-component': 'SyncRunRows', examples: [{ users: [{ key: '1900', userName: 'grace@example.com', givenName: 'Grace' }] }] },
);

export const ApplyQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: 'Apply a held plan (after reviewing it).' })) },
  { additionalProperties: false },
);

const Counts = Type.Object(
  { create: Type.Integer(), update: Type.Integer(), reactivate: Type.Integer(), suspend: Type.Integer(), unchanged: Type.Integer(), errors: Type.Integer() },
  { 'x-component': 'SyncCounts' },
);
const Applied = Type.Object(
  { create: Type.Integer(), update: Type.Integer(), reactivate: Type.Integer(), suspend: Type.Integer(), failed: Type.Integer() },
  { 'x-component': 'SyncAppliedCounts' },
);

export const SyncRunSchema = Type.Object(
  {
    id: Uuid,
    origin: Type.String(),
    status: Type.Union(SYNC_RUN_STATUSES.map((s) => Type.Literal(s)), {
      description: 'receiving (staged: rows are uploaded), planning, planned (review, then apply), held (a safeguard tripped: apply with force=true), applying (a job), applied, failed.',
    }),
    options: Type.Object({
      missing: Type.Union([Type.Literal('suspend'), Type.Literal('ignore')]),
      maxDeactivations: Nullable(Type.Union([Type.Integer(), Type.String()])),
      maxChanges: Nullable(Type.Integer()),
    }),
    received: Type.Integer({ description: 'Snapshot rows received.' }),
    counts: Nullable(Counts),
    applied: Nullable(Applied),
    heldReasons: Type.Array(Type.String()),
    jobId: Nullable(Uuid),
    createdBy: Type.Object({ actorType: Type.String(), actorId: Nullable(Type.String()) }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    plannedAt: Nullable(Timestamp),
    appliedAt: Nullable(Timestamp),
  },
  { 'x-component': 'SyncRun' },
);

const StoredProblem = Type.Object(
  {
    code: Type.String(),
    status: Type.Integer(),
    title: Type.String(),
    detail: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { 'x-component': 'SyncItemProblem' },
);

export const SyncItemSchema = Type.Object(
  {
    seq: Type.Integer({ description: 'Position in the plan: the snapshot rows in the order received, then the users it omits.' }),
    key: Type.String(),
    userId: Nullable(Uuid),
    action: Type.Union(SYNC_ACTIONS.map((a) => Type.Literal(a))),
    changes: Type.Record(Type.String(), Type.Object({ from: Type.Unknown(), to: Type.Unknown() }), { description: 'Field-level before/after.' }),
    warnings: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
    error: Nullable(StoredProblem),
    outcome: Nullable(Type.Union([Type.Literal('applied'), Type.Literal('failed')], { description: 'Once applied: what happened to the item.' })),
    outcomeError: Nullable(StoredProblem),
  },
  { 'x-component': 'SyncItem' },
);

export const SyncItemsQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' })),
    action: Type.Optional(Type.Union(SYNC_ACTIONS.map((a) => Type.Literal(a)))),
  },
  { additionalProperties: false },
);

export const SyncRunListQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' })),
    status: Type.Optional(Type.Union(SYNC_RUN_STATUSES.map((s) => Type.Literal(s)))),
    origin: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const ReceivedSchema = Type.Object({ id: Uuid, received: Type.Integer() }, { 'x-component': 'SyncRunReceived' });
