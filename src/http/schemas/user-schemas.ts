import { Type, type Static } from '@sinclair/typebox';
import { DIRECTORY, type DirectoryDefinition } from '../../domain/directory.js';
import { USER_STATUSES } from '../../domain/user.js';
import { USER_STATUS_INPUTS } from '../../domain/user-lifecycle.js';
import { CURSOR_DESCRIPTION, MAX_CURSOR_LENGTH, Nullable, TOP_DESCRIPTION, Timestamp, Uuid } from './common-schemas.js';
import { directorySchemas } from './directory-schemas.js';

const Text = (maxLength: number, description?: string) => Type.String({ maxLength, ...(description ? { description } : {}) });
const Email = Type.Union([Type.String({ format: 'email', maxLength: 320 }), Type.Literal('')]);
const ExternalIdSchema = Type.Object(
  {
    origin: Type.String({ minLength: 1, maxLength: 128, description: 'The source system, e.g. "workday" or an HR feed id.' }),
    key: Type.String({ minLength: 1, maxLength: 256, description: 'The person\'s key in that system.' }),
  },
  { additionalProperties: false },
);
const Attributes = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 200, description: 'Custom fields as a JSON object.' });
const IdentificationSchema = Type.Object(
  { typeId: Uuid, value: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false, description: 'A document or number of an identification type (passport, national id…).' },
);
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 });
const WritableStatus = Type.Union(USER_STATUS_INPUTS.map((s) => Type.Literal(s)), { description: 'A lifecycle state; moves follow the transition table (inactive: older name of suspended).' });

/** The fields a client writes, each optional and (for PATCH) nullable. */
const writable = {
  userName: Type.String({ minLength: 1, maxLength: 256, description: 'Unique per tenant, case-insensitive. Defaults to email.' }),
  email: Email,
  givenName: Text(256),
  familyName: Text(256),
  displayName: Text(512, 'Derived from givenName and familyName when absent.'),
  title: Text(256),
  department: Text(256),
  employeeId: Text(128),
  employmentType: Text(64),
  costCenter: Text(128),
  phone: Text(64),
  country: Text(64),
  locale: Text(35),
  managerId: Uuid,
  positionId: Uuid,
  areaId: Uuid,
  preventDeprovision: Type.Boolean({ description: 'Protects the user from automated offboarding.' }),
  identifications: Type.Array(IdentificationSchema, { maxItems: 50 }),
  externalIds: Type.Array(ExternalIdSchema, { maxItems: 50 }),
  attributes: Attributes,
  tags: Tags,
  status: WritableStatus,
};

/** Optional fields a client may also send as null (or "") to leave empty. */
const optionalNullableText = {
  email: Type.Optional(Nullable(writable.email)),
  givenName: Type.Optional(Nullable(writable.givenName)),
  familyName: Type.Optional(Nullable(writable.familyName)),
  displayName: Type.Optional(Nullable(writable.displayName)),
  title: Type.Optional(Nullable(writable.title)),
  department: Type.Optional(Nullable(writable.department)),
  employeeId: Type.Optional(Nullable(writable.employeeId)),
  employmentType: Type.Optional(Nullable(writable.employmentType)),
  costCenter: Type.Optional(Nullable(writable.costCenter)),
  phone: Type.Optional(Nullable(writable.phone)),
  country: Type.Optional(Nullable(writable.country)),
  locale: Type.Optional(Nullable(writable.locale)),
  managerId: Type.Optional(Nullable(writable.managerId)),
  positionId: Type.Optional(Nullable(writable.positionId)),
  areaId: Type.Optional(Nullable(writable.areaId)),
};

export const CreateUserBody = Type.Object(
  {
    userName: Type.Optional(writable.userName),
    ...optionalNullableText,
    externalIds: Type.Optional(writable.externalIds),
    attributes: Type.Optional(writable.attributes),
    tags: Type.Optional(writable.tags),
    status: Type.Optional(writable.status),
    preventDeprovision: Type.Optional(writable.preventDeprovision),
    identifications: Type.Optional(writable.identifications),
  },
  { additionalProperties: false },
);

/** PUT accepts what GET returned: read-only fields may be sent back and are ignored. */
export const ReplaceUserBody = Type.Object(
  {
    ...CreateUserBody.properties,
    id: Type.Optional(Uuid),
    createdAt: Type.Optional(Type.String()),
    updatedAt: Type.Optional(Type.String()),
    lastLoginAt: Type.Optional(Nullable(Type.String())),
    version: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const PatchUserBody = Type.Object(
  {
    userName: Type.Optional(Nullable(writable.userName)),
    ...optionalNullableText,
    externalIds: Type.Optional(Nullable(writable.externalIds)),
    attributes: Type.Optional(Nullable(writable.attributes)),
    tags: Type.Optional(Nullable(writable.tags)),
    status: Type.Optional(Nullable(writable.status)),
    preventDeprovision: Type.Optional(Nullable(writable.preventDeprovision)),
    identifications: Type.Optional(Nullable(writable.identifications)),
  },
  { additionalProperties: false, description: 'JSON Merge Patch (RFC 7396): only the fields sent change; null clears a field.' },
);

/** The user's own fields (without expansions). */
const UserCore = Type.Object(
  {
    id: Uuid,
    userName: Type.String(),
    email: Nullable(Type.String()),
    givenName: Nullable(Type.String()),
    familyName: Nullable(Type.String()),
    displayName: Type.String(),
    title: Nullable(Type.String()),
    department: Nullable(Type.String()),
    employeeId: Nullable(Type.String()),
    employmentType: Nullable(Type.String()),
    costCenter: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    country: Nullable(Type.String()),
    locale: Nullable(Type.String()),
    managerId: Nullable(Uuid),
    positionId: Nullable(Uuid),
    areaId: Nullable(Uuid),
    preventDeprovision: Type.Boolean(),
    identifications: Type.Array(IdentificationSchema),
    externalIds: Type.Array(ExternalIdSchema),
    attributes: Attributes,
    tags: Type.Array(Type.String()),
    status: Type.Union(USER_STATUSES.map((s) => Type.Literal(s))),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    lastLoginAt: Nullable(Timestamp),
    version: Type.Integer({ description: 'Increments on every change; the ETag is W/"<version>".' }),
  },
  { title: 'User' },
);

/** An expanded directory record: the kind's fields, those named by a nested $select (id always). */
const expandedRecord = (def: DirectoryDefinition) => Type.Partial(directorySchemas(def).response, { title: `Expanded ${def.kind.replaceAll('_', ' ')}` });
const expanded = (what: string) => ({ description: `Present with $expand=${what}; a nested $select (e.g. ${what}($select=name)) limits the fields (id is always returned).` });

/**
 * Relations `$expand` adds to a user (absent unless asked for). Listed here so OpenAPI
 * documents them and the serializer keeps them.
 */
const UserExpansions = {
  manager: Type.Optional(Type.Union([Type.Partial(UserCore, { title: 'Expanded manager' }), Type.Null()], expanded('manager'))),
  position: Type.Optional(Type.Union([expandedRecord(DIRECTORY.position), Type.Null()], expanded('position'))),
  area: Type.Optional(Type.Union([expandedRecord(DIRECTORY.area), Type.Null()], expanded('area'))),
  roles: Type.Optional(Type.Array(expandedRecord(DIRECTORY.role), expanded('roles'))),
  groups: Type.Optional(Type.Array(expandedRecord(DIRECTORY.group), expanded('groups'))),
  organizations: Type.Optional(Type.Array(expandedRecord(DIRECTORY.organization), expanded('organizations'))),
  environments: Type.Optional(
    Type.Array(
      Type.Partial(
        Type.Object({
          ...directorySchemas(DIRECTORY.environment).response.properties,
          permissions: Type.Array(Type.String(), { description: 'What the user may do in the environment (this membership).' }),
        }),
        { title: 'Expanded environment membership' },
      ),
      expanded('environments'),
    ),
  ),
  identities: Type.Optional(
    Type.Array(
      Type.Partial(
        Type.Object({
          id: Uuid,
          providerId: Uuid,
          providerName: Type.String(),
          providerAlias: Type.String(),
          subject: Type.String(),
          userName: Nullable(Type.String()),
          createdAt: Timestamp,
        }),
        { title: 'Expanded identity link' },
      ),
      expanded('identities'),
    ),
  ),
};

export const UserSchema = Type.Object({ ...UserCore.properties, ...UserExpansions }, { title: 'User' });

const EXPAND_DESCRIPTION =
  'Related records to include, comma-separated, each optionally with a nested $select: manager, position, area, roles, groups, organizations, environments, identities. ' +
  'e.g. `position($select=name),groups($select=name)`.';

/** GET of a single user: only $expand. */
export const UserGetQuery = Type.Object({ $expand: Type.Optional(Type.String({ maxLength: 1024, description: EXPAND_DESCRIPTION })) }, { additionalProperties: false });

export const UserListQuery = Type.Object(
  {
    $filter: Type.Optional(Type.String({ maxLength: 4096, description: "OData filter, e.g. `department eq 'Sales' and startswith(familyName,'D')`." })),
    $orderby: Type.Optional(Type.String({ maxLength: 512, description: 'e.g. `familyName desc,givenName`.' })),
    $select: Type.Optional(Type.String({ maxLength: 1024, description: 'Comma-separated fields to return (id is always returned).' })),
    $expand: Type.Optional(Type.String({ maxLength: 1024, description: EXPAND_DESCRIPTION })),
    $top: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: TOP_DESCRIPTION })),
    $skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'Offset paging; prefer cursor for deep pages.' })),
    $count: Type.Optional(Type.Boolean({ description: 'Adds the total number of matching users as count.' })),
    cursor: Type.Optional(Type.String({ maxLength: MAX_CURSOR_LENGTH, description: CURSOR_DESCRIPTION })),
  },
  { additionalProperties: false },
);

export const UserListResponse = Type.Object({
  items: Type.Array(Type.Partial(UserSchema)),
  nextCursor: Nullable(Type.String()),
  count: Type.Optional(Type.Integer()),
});

export const UserNameParams = Type.Object({ userName: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const ExternalIdParams = Type.Object(
  { origin: Type.String({ minLength: 1, maxLength: 128 }), key: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export type CreateUserBody = Static<typeof CreateUserBody>;
export type ReplaceUserBody = Static<typeof ReplaceUserBody>;
export type PatchUserBody = Static<typeof PatchUserBody>;
