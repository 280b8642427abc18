import { Type, type Static, type TOptional, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { DIRECTORY, type DirectoryDefinition } from '../../domain/directory.js';
import {
  USER_FIELDS, type UserFieldDefinition, type UserFieldName, type UserFieldValues, type UserFieldWrite, type UserWritableField,
} from '../../domain/user-fields.js';
import { USER_STATUS_INPUTS, USER_STATUSES, type UserStatus, type UserStatusAlias } from '../../domain/user-lifecycle.js';
import { CURSOR_DESCRIPTION, FreeJsonObject, MAX_CURSOR_LENGTH, Nullable, TOP_DESCRIPTION, Timestamp, Uuid } from './common-schemas.js';
import { directoryNames, directorySchemas } from './directory-schemas.js';

/*
 * The user's request and response schemas, derived from USER_FIELDS (src/domain/user-fields.ts):
 * one JSON Schema per value kind, nullable where the registry says so. `Nullable` keeps type
 * lists for primitives (see its comment: a serializer performance matter).
 */

const ExternalIdSchema = Type.Object(
  {
    origin: Type.String({ minLength: 1, maxLength: 128, description: 'The source system, e.g. "workday" or an HR feed id.' }),
    key: Type.String({ minLength: 1, maxLength: 256, description: 'The person\'s key in that system.' }),
  },
  { additionalProperties: false, 'x-component': 'ExternalId' },
);
const IdentificationSchema = Type.Object(
  { typeId: Uuid, value: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false, description: 'A document or number of an identification type (passport, national id…).', 'x-component': 'Identification' },
);

const docOf = (field: UserFieldDefinition) => (field.description === undefined ? {} : { description: field.description });
const uuid = (field: UserFieldDefinition) => Type.String({ format: 'uuid', description: field.description ?? Uuid.description });
const attributes = (maxProperties: number, field: UserFieldDefinition) => FreeJsonObject({ maxProperties, description: field.description });

/** What a client may send for a writable field (before nullability). */
function inputSchema(field: UserFieldDefinition): TSchema {
  const t = field.type;
  const doc = docOf(field);
  switch (t.kind) {
    case 'text':
      return Type.String({ ...(t.minLength === undefined ? {} : { minLength: t.minLength }), maxLength: t.maxLength, ...doc });
    case 'email':
      // "" is how HR feeds say "no email"; it is stored as null.
      // idn-email: internationalised addresses (jürgen@münchen.de, RFC 6531) are addresses too.
      return Type.Union([Type.String({ format: 'idn-email', maxLength: t.maxLength }), Type.Literal('')], doc);
    case 'uuid':
      return uuid(field);
    case 'boolean':
      return Type.Boolean(doc);
    case 'status':
      return Type.Union(USER_STATUS_INPUTS.map((s) => Type.Literal(s)), doc);
    case 'identifications':
      return Type.Array(IdentificationSchema, { maxItems: t.maxItems, ...doc });
    case 'externalIds':
      return Type.Array(ExternalIdSchema, { maxItems: t.maxItems, ...doc });
    case 'attributes':
    case 'profile':
      return attributes(t.maxProperties, field);
    case 'tags':
      return Type.Array(Type.String({ minLength: 1, maxLength: t.maxLength }), { maxItems: t.maxItems, ...doc });
    case 'timestamp':
    case 'integer':
      throw new Error(`A ${t.kind} field is never written by clients`);
  }
}

/** How a response shows a field (before nullability). */
function responseSchema(field: UserFieldDefinition): TSchema {
  const t = field.type;
  const doc = docOf(field);
  switch (t.kind) {
    case 'text':
    case 'email':
      return Type.String(doc);
    case 'uuid':
      return uuid(field);
    case 'boolean':
      return Type.Boolean(doc);
    case 'status':
      return Type.Union(USER_STATUSES.map((s) => Type.Literal(s)), doc);
    case 'timestamp':
      return field.description === undefined ? Timestamp : Type.String({ format: 'date-time', ...doc });
    case 'integer':
      return Type.Integer(doc);
    case 'identifications':
      return Type.Array(IdentificationSchema, doc);
    case 'externalIds':
      return Type.Array(ExternalIdSchema, doc);
    case 'attributes':
    case 'profile':
      return attributes(t.maxProperties, field);
    case 'tags':
      return Type.Array(Type.String(), doc);
  }
}

/**
 * A server-owned field sent back in a PUT body (what GET returned): accepted loosely and ignored.
 */
function echoedSchema(field: UserFieldDefinition): TSchema {
  switch (field.type.kind) {
    case 'uuid':
      return Uuid;
    case 'integer':
      return Type.Integer();
    default:
      return Type.String();
  }
}

const fields = Object.entries(USER_FIELDS) as [UserFieldName, UserFieldDefinition][];
const writableFields = fields.filter((entry): entry is [UserWritableField, UserFieldDefinition & { write: UserFieldWrite }] => entry[1].write !== undefined);
const serverFields = fields.filter(([, field]) => field.write === undefined);
const nullableIf = (nullable: boolean, schema: TSchema) => (nullable ? Nullable(schema) : schema);

/*
 * The schemas are built from the registry at run time; these mapped types give them the static
 * types of the domain (the unit test checks that the two agree).
 */
type Written<K extends UserWritableField> = K extends 'status' ? UserStatus | UserStatusAlias : UserFieldValues[K];
type NullOnCreate<K extends UserWritableField> = (typeof USER_FIELDS)[K]['write']['nullOnCreate'] extends true ? null : never;
type Optional<T> = TOptional<TUnsafe<T>>;
type CreateProperties = { [K in UserWritableField]: Optional<Written<K> | NullOnCreate<K>> };
type ReplaceProperties = CreateProperties & { [K in Exclude<UserFieldName, UserWritableField>]: Optional<UserFieldValues[K]> };
type PatchProperties = { [K in UserWritableField]: Optional<Written<K> | null> };

const closed = { additionalProperties: false } as const;
const properties = <T>(entries: [string, TSchema][]): T => Object.fromEntries(entries) as T;

/** The example /docs pre-fills: it must pass validation and create a user (test/api/openapi.test.ts). */
const USER_EXAMPLE = {
  userName: 'ada.lovelace',
  email: 'ada.lovelace@example.com',
  givenName: 'Ada',
  familyName: 'Lovelace',
  title: 'Analyst',
  department: 'Research',
  employeeId: '1815',
  country: 'GB',
  externalIds: [{ origin: 'workday', key: '1815' }],
  attributes: { shirtSize: 'M' },
  tags: ['founder'],
};

export const CreateUserBody = Type.Object(
  properties<CreateProperties>(writableFields.map(([name, field]) => [name, Type.Optional(nullableIf(field.write.nullOnCreate, inputSchema(field)))])),
  { ...closed, 'x-component': 'UserCreate', examples: [USER_EXAMPLE] },
);

/** PUT accepts what GET returned: read-only fields may be sent back and are ignored. */
export const ReplaceUserBody = Type.Object(
  {
    ...CreateUserBody.properties,
    ...properties<Omit<ReplaceProperties, UserWritableField>>(
      serverFields.map(([name, field]) => [name, Type.Optional(nullableIf(field.nullable, echoedSchema(field)))]),
    ),
  },
  { ...closed, 'x-component': 'UserReplace', examples: [{ ...USER_EXAMPLE, title: 'Lead analyst', status: 'active' }] },
);

/** Every writable field may be sent as null: it clears the field (userName and status refuse it in the service). */
export const PatchUserBody = Type.Object(
  properties<PatchProperties>(writableFields.map(([name, field]) => [name, Type.Optional(Nullable(inputSchema(field)))])),
  {
    ...closed,
    description: 'JSON Merge Patch (RFC 7396): only the fields sent change; null clears a field.',
    'x-component': 'UserPatch',
    examples: [{ title: 'Lead analyst', department: null }],
  },
);

/** The user's own fields (without expansions): what presentUser returns. */
const UserCore = Type.Object(
  properties<{ [K in UserFieldName]: TUnsafe<UserFieldValues[K]> }>(fields.map(([name, field]) => [name, nullableIf(field.nullable, responseSchema(field))])),
  { title: 'User' },
);

/** A user as JSON, without expansions. */
export type UserResource = Static<typeof UserCore>;

/** An expanded directory record: the kind's fields, those named by a nested $select (id always). */
const expandedRecord = (def: DirectoryDefinition) =>
  Type.Partial(directorySchemas(def).response, { title: `Expanded ${def.kind.replaceAll('_', ' ')}`, 'x-component': `Expanded${directoryNames(def).one}` });
const expanded = (what: string) => ({ description: `Present with $expand=${what}; a nested $select (e.g. ${what}($select=name)) limits the fields (id is always returned).` });

/**
 * Relations `$expand` adds to a user (absent unless asked for). Listed here so OpenAPI
 * documents them and the serializer keeps them.
 */
const UserExpansions = {
  manager: Type.Optional(Type.Union([Type.Partial(UserCore, { title: 'Expanded manager', 'x-component': 'ExpandedManager' }), Type.Null()], expanded('manager'))),
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
        { title: 'Expanded environment membership', 'x-component': 'ExpandedEnvironmentMembership' },
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
        { title: 'Expanded identity link', 'x-component': 'ExpandedIdentityLink' },
      ),
      expanded('identities'),
    ),
  ),
};

export const UserSchema = Type.Object({ ...UserCore.properties, ...UserExpansions }, { title: 'User', 'x-component': 'User' });

const EXPAND_DESCRIPTION =
  'Related records to include, comma-separated, each optionally with a nested $select: manager, position, area, roles, groups, organizations, environments, identities. ' +
  'e.g. `position($select=name),groups($select=name)`. ' +
  'Each needs the scope that reads those records on their own endpoints: position, area, roles, groups, organizations and environments need `directory:read` ' +
  '(403 without it); manager and identities need only `users:read`.';

/** GET of a single user: $select and $expand, as on the list. */
export const UserGetQuery = Type.Object(
  {
    $select: Type.Optional(Type.String({ maxLength: 1024, description: 'Comma-separated fields to return (id is always returned).' })),
    $expand: Type.Optional(Type.String({ maxLength: 1024, description: EXPAND_DESCRIPTION })),
  },
  { additionalProperties: false },
);

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

export const UserListResponse = Type.Object(
  {
    items: Type.Array(Type.Partial(UserSchema, { 'x-component': 'PartialUser', description: 'A user with the fields of $select (all without it) and the relations of $expand.' })),
    nextCursor: Nullable(Type.String()),
    count: Type.Optional(Type.Integer()),
  },
  { 'x-component': 'UserPage' },
);

export const UserNameParams = Type.Object({ userName: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const ExternalIdParams = Type.Object(
  { origin: Type.String({ minLength: 1, maxLength: 128 }), key: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export type CreateUserBody = Static<typeof CreateUserBody>;
export type ReplaceUserBody = Static<typeof ReplaceUserBody>;
export type PatchUserBody = Static<typeof PatchUserBody>;
