import { Type, type Static, type TBoolean, type TOptional } from '@sinclair/typebox';
import { ENVIRONMENT_PERMISSIONS, MAX_MEMBERSHIPS_PER_REPLACE } from '../../domain/membership.js';
import { Nullable, PageSizeQuery, Uuid, type ProblemSchema } from './common-schemas.js';
import { PermissionList } from './membership-schemas.js';
import { PatchUserBody } from './user-schemas.js';

/*
 * Bulk upsert (POST /v1/users/bulk) and the rows of directory sync runs share one row schema:
 * a partial user keyed by the external key of the call's origin, plus references that may name
 * their target by id, by name (code for organizations) or by external key.
 */

/**
 * A row's error: a problem object (RFC 9457) whose `errors` point into the request
 * (`/users/3/email`). A reference to the shared Problem schema, not a copy (the code list alone is 5 KB).
 */
const RowProblem = Type.Unsafe<Static<typeof ProblemSchema>>(Type.Ref('Problem'));

/** Most rows one synchronous call takes; larger calls (and `?async=true`) answer 202 with a job. */
export const MAX_BULK_ROWS = 10_000;
/** Most rows one call takes at all (a 100 MB body holds about half a million typical rows). */
export const MAX_ASYNC_BULK_ROWS = 1_000_000;

const Origin = Type.String({ minLength: 1, maxLength: 128, description: 'The source system whose keys identify the rows, e.g. "workday".' });
const RowKey = Type.String({ minLength: 1, maxLength: 256, description: 'The person\'s key in the origin: the user\'s external id {origin, key}.' });

/**
 * A reference to a user or a directory record. A string is an id when it is a UUID, otherwise
 * the record's name (for organizations its code; for a manager the userName or, first, a key of
 * the same origin). Objects say which: `{id}`, `{name}`, `{code}`, `{userName}` or the external
 * key `{origin, key}` (users and groups have external ids).
 */
export const ReferenceSchema = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 256 }),
    Type.Object({ id: Uuid }, { additionalProperties: false }),
    Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
    Type.Object({ code: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
    Type.Object({ userName: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
    Type.Object({ origin: Origin, key: RowKey }, { additionalProperties: false }),
  ],
  { description: 'An id (UUID), a name (an organization\'s code; a manager\'s key in the same origin or userName), or {id} | {name} | {code} | {userName} | {origin, key}.', 'x-component': 'Reference' },
);
export type Reference = Static<typeof ReferenceSchema>;

/** Environment permissions as Barium sends them: one boolean per permission. */
const PermissionFlags = Type.Object(
  Object.fromEntries(ENVIRONMENT_PERMISSIONS.map((p) => [p, Type.Optional(Type.Boolean())])) as Record<(typeof ENVIRONMENT_PERMISSIONS)[number], TOptional<TBoolean>>,
  { additionalProperties: false, description: 'One boolean per permission; omitted means false.' },
);

const EnvironmentGrant = Type.Object(
  { environment: ReferenceSchema, permissions: Type.Optional(Type.Union([PermissionList, PermissionFlags])) },
  { additionalProperties: false, description: 'An environment and what the user may do in it (default: view).', 'x-component': 'EnvironmentGrant' },
);

const referenceList = (what: string) =>
  Type.Array(ReferenceSchema, { maxItems: MAX_MEMBERSHIPS_PER_REPLACE, description: `The user's complete list of ${what} afterwards (a full replace); omit to leave them as they are.` });

/** The references a row may make besides the plain user fields. */
const ROW_REFERENCES = {
  manager: Type.Optional(Nullable(ReferenceSchema)),
  position: Type.Optional(Nullable(ReferenceSchema)),
  area: Type.Optional(Nullable(ReferenceSchema)),
  groups: Type.Optional(referenceList('groups')),
  roles: Type.Optional(referenceList('roles')),
  organizations: Type.Optional(referenceList('organizations')),
  environments: Type.Optional(Type.Array(EnvironmentGrant, { maxItems: MAX_MEMBERSHIPS_PER_REPLACE, description: 'The user\'s complete list of environments with permissions afterwards (a full replace).' })),
};

/**
 * One row: `key`, any user field a merge patch takes (only what is sent changes; null clears),
 * and references. `manager` and `managerId` (likewise `position`/`positionId`, `area`/`areaId`)
 * are two ways to say one thing: sending both is an error of the row.
 */
export const BulkUserRowSchema = Type.Object(
  { key: RowKey, ...PatchUserBody.properties, ...ROW_REFERENCES },
  { additionalProperties: false, 'x-component': 'BulkUserRow', description: 'A partial user identified by (origin, key); only the fields sent change.' },
);
export type BulkUserRow = Static<typeof BulkUserRowSchema>;

export const BULK_MODES = ['upsert', 'create', 'update'] as const;
export type BulkMode = (typeof BULK_MODES)[number];

export const BulkUpsertBody = Type.Object(
  {
    origin: Origin,
    mode: Type.Optional(Type.Union(BULK_MODES.map((m) => Type.Literal(m)), { description: 'upsert (default): create absent users, update present ones; create: present ones are errors; update: absent ones are errors.' })),
    dryRun: Type.Optional(Type.Boolean({ description: 'Plan and answer as if applied; write nothing.' })),
    users: Type.Array(BulkUserRowSchema, {
      maxItems: MAX_ASYNC_BULK_ROWS,
      description: `Each key at most once. Up to ${MAX_BULK_ROWS} rows answer at once (200); more (up to ${MAX_ASYNC_BULK_ROWS}, 100 MB) answer 202 with a job.`,
    }),
  },
  {
    additionalProperties: false,
    'x-component': 'BulkUpsertRequest',
    examples: [{
      origin: 'workday',
      mode: 'upsert',
      users: [
        { key: '1815', userName: 'ada@example.com', givenName: 'Ada', familyName: 'Lovelace', title: 'Analyst', manager: '1900', groups: ['Research'] },
        { key: '1900', userName: 'grace@example.com', givenName: 'Grace', familyName: 'Hopper', environments: [{ environment: 'prod', permissions: { view: true, run: true } }] },
      ],
    }],
  },
);
export type BulkUpsertBody = Static<typeof BulkUpsertBody>;

export const BULK_ROW_STATUSES = ['added', 'updated', 'unchanged', 'error'] as const;

export const BulkRowResultSchema = Type.Object(
  {
    key: Type.String(),
    id: Nullable(Uuid),
    status: Type.Union(BULK_ROW_STATUSES.map((s) => Type.Literal(s))),
    error: Type.Optional(RowProblem),
  },
  { 'x-component': 'BulkUserResult' },
);

export const BulkUpsertResponse = Type.Object(
  {
    added: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    errors: Type.Integer(),
    dryRun: Type.Boolean(),
    users: Type.Array(BulkRowResultSchema, { description: 'One result per row, in request order.' }),
  },
  { 'x-component': 'BulkUpsertResponse' },
);
export type BulkUpsertResponse = Static<typeof BulkUpsertResponse>;

/** A user to disable: by id, or by external key. */
const DisableTarget = Type.Union([Type.Object({ id: Uuid }, { additionalProperties: false }), Type.Object({ origin: Origin, key: RowKey }, { additionalProperties: false })]);

export const BulkDisableBody = Type.Object(
  { users: Type.Array(DisableTarget, { maxItems: MAX_BULK_ROWS }), dryRun: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, 'x-component': 'BulkDisableRequest', examples: [{ users: [{ origin: 'workday', key: '1815' }, { id: '0190f0c5-7b1e-7cc3-a5a4-2f1d3c9b8e10' }] }] },
);
export type BulkDisableBody = Static<typeof BulkDisableBody>;

export const BulkDisableResponse = Type.Object(
  {
    disabled: Type.Integer(),
    unchanged: Type.Integer(),
    errors: Type.Integer(),
    dryRun: Type.Boolean(),
    users: Type.Array(
      Type.Object({
        id: Nullable(Uuid),
        origin: Type.Optional(Type.String()),
        key: Type.Optional(Type.String()),
        status: Type.Union([Type.Literal('disabled'), Type.Literal('unchanged'), Type.Literal('error')]),
        error: Type.Optional(RowProblem),
      }),
    ),
  },
  { 'x-component': 'BulkDisableResponse' },
);
export type BulkDisableResponse = Static<typeof BulkDisableResponse>;

export const BulkUpsertQuery = Type.Object(
  {
    async: Type.Optional(Type.Boolean({ description: 'Answer 202 with a job whatever the number of rows.' })),
    origin: Type.Optional(Type.String({ description: 'With an application/x-ndjson body only: the origin (a JSON body carries it).' })),
    mode: Type.Optional(Type.String({ description: 'With an application/x-ndjson body only: the mode.' })),
    dryRun: Type.Optional(Type.String({ description: 'With an application/x-ndjson body only: true for a dry run.' })),
  },
  { additionalProperties: false },
);

const RESULT_STATUSES = ['added', 'updated', 'unchanged', 'error'] as const;

export const BulkResultsQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' })),
    status: Type.Optional(Type.Union(RESULT_STATUSES.map((st) => Type.Literal(st)))),
  },
  { additionalProperties: false },
);

export const BulkJobResultSchema = Type.Object(
  {
    index: Type.Integer({ description: 'The row\'s position in the call, from 0.' }),
    key: Type.String(),
    id: Nullable(Uuid),
    status: Nullable(Type.Union(RESULT_STATUSES.map((st) => Type.Literal(st)), { description: 'null while the row is not written yet.' })),
    error: Nullable(Type.Object({ code: Type.String(), status: Type.Integer(), title: Type.String(), detail: Type.String(), errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))) })),
  },
  { 'x-component': 'BulkJobResult' },
);
