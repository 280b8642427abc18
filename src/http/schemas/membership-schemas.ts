import { Type, type TSchema } from '@sinclair/typebox';
import { ENVIRONMENT_PERMISSIONS, MAX_MEMBERSHIPS_PER_REPLACE, type MembershipDefinition } from '../../domain/membership.js';
import { Nullable, PageSizeQuery, Timestamp, Uuid, pageOf } from './common-schemas.js';
import { directoryNames } from './directory-schemas.js';

/** `RoleMembership`, `GroupMember`, …: OpenAPI names of a kind's membership schemas. */
const named = (def: MembershipDefinition, suffix: string) => ({ 'x-component': `${directoryNames(def.target).one}${suffix}` });

/** An id in the examples /docs pre-fills where a record must be named (unknown ids are refused without a change). */
const EXAMPLE_ID = '0190f0c5-7b1e-7cc3-a5a4-2f1d3c9b8e10';

export const EnvironmentPermissionSchema = Type.Union(ENVIRONMENT_PERMISSIONS.map((p) => Type.Literal(p)), { description: 'One of view, model, build, run, admin.' });
export const PermissionList = Type.Array(EnvironmentPermissionSchema, { uniqueItems: true, maxItems: ENVIRONMENT_PERMISSIONS.length, description: 'What the membership grants in the environment.' });

/** /v1/users/{id}/<kind>/{roleId|groupId|…} */
export const userTargetParams = (def: MembershipDefinition) => Type.Object({ id: Uuid, [def.param]: Uuid }, { additionalProperties: false });

/** /v1/<kind>/{id}/members/{userId} */
export const MemberParams = Type.Object({ id: Uuid, userId: Uuid }, { additionalProperties: false });

/** Every shape a membership target can take (the static type presenters return). */
export const AnyTargetSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  weight: Type.Optional(Type.Integer()),
  code: Type.Optional(Type.String()),
  permissions: Type.Optional(PermissionList),
});

/** Every shape a membership change can take (environments add `updated`). */
export const AnyChangeSchema = Type.Object({ added: Type.Array(Uuid), removed: Type.Array(Uuid), updated: Type.Optional(Type.Array(Uuid)) });

/** A role/group/organization/environment as listed for a user. */
export function targetSchema(def: MembershipDefinition): TSchema {
  return Type.Object(
    {
      id: Uuid,
      name: Type.String(),
      ...(def.extra === 'weight' ? { weight: Type.Integer() } : {}),
      ...(def.extra === 'code' ? { code: Type.String() } : {}),
      ...(def.permissions ? { permissions: PermissionList } : {}),
    },
    { title: `User ${def.label}`, ...named(def, 'Membership') },
  );
}

export const targetListSchema = (def: MembershipDefinition): TSchema => Type.Object({ items: Type.Array(targetSchema(def)) }, named(def, 'MembershipList'));

const MembershipRef = Type.Object({ id: Uuid }, { additionalProperties: false });
const EnvironmentMembershipRef = Type.Object({ environmentId: Uuid, permissions: PermissionList }, { additionalProperties: false });

/** PUT body: the whole list the user should have afterwards. */
export const replaceBodySchema = (def: MembershipDefinition) =>
  Type.Array(def.permissions ? EnvironmentMembershipRef : MembershipRef, {
    maxItems: MAX_MEMBERSHIPS_PER_REPLACE,
    description: `The user's complete list of ${def.kind}: members of exactly these afterwards. Each id at most once; unknown ids are refused (422) and nothing changes.`,
    ...named(def, 'MembershipReplace'),
    examples: [def.permissions ? [{ environmentId: EXAMPLE_ID, permissions: ['view', 'run'] }] : [{ id: EXAMPLE_ID }]],
  });

/** The body PUT accepts, as one type for the handler. */
export type ReplaceItem = { id?: string; environmentId?: string; permissions?: (typeof ENVIRONMENT_PERMISSIONS)[number][] };

export const changeSchema = (def: MembershipDefinition): TSchema =>
  Type.Object({
    added: Type.Array(Uuid, { description: `Ids of the ${def.kind} the user joined.` }),
    removed: Type.Array(Uuid, { description: `Ids of the ${def.kind} the user left.` }),
    ...(def.permissions ? { updated: Type.Array(Uuid, { description: 'Ids of the environments whose permissions changed.' }) } : {}),
  }, named(def, 'MembershipChange'));

/** POST body for environments (optional): the permissions to grant. */
export const AddEnvironmentBody = Type.Object(
  { permissions: Type.Optional(PermissionList) },
  {
    additionalProperties: false,
    description: 'Optional. New memberships get ["view"] when permissions are not sent; an existing membership takes the permissions sent.',
    'x-component': 'EnvironmentMembershipAdd',
    examples: [{ permissions: ['view', 'run'] }],
  },
);

const summaryProperties = {
  id: Uuid,
  userName: Type.String(),
  displayName: Type.String(),
  email: Nullable(Type.String()),
  status: Type.String(),
  managerId: Nullable(Uuid),
};

/** A user as listed among a resource's members. */
export const memberSchema = (def: MembershipDefinition): TSchema =>
  Type.Object({ ...summaryProperties, ...(def.permissions ? { permissions: PermissionList } : {}) }, { title: `Member of ${def.label === 'environment' ? 'an' : 'a'} ${def.label}`, ...named(def, 'Member') });

export const memberPageSchema = (def: MembershipDefinition): TSchema => pageOf(memberSchema(def));

export const ReportSchema = Type.Object(
  { ...summaryProperties, depth: Type.Integer({ minimum: 1, description: '1 for a direct report, 2 for their reports, …' }) },
  { title: 'Report', 'x-component': 'Report' },
);

export const ReportsQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' })),
    depth: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('all')], { description: '`1` (the default): direct reports; `all`: the whole subtree below the user. A cursor carries the depth of its query.' })),
  },
  { additionalProperties: false },
);

export const IdentitySchema = Type.Object(
  {
    id: Uuid,
    providerId: Uuid,
    providerName: Type.String(),
    providerAlias: Type.String(),
    subject: Type.String({ description: "The user's id at the provider (e.g. the sub claim)." }),
    userName: Nullable(Type.String()),
    createdAt: Timestamp,
  },
  { title: 'Identity link', 'x-component': 'IdentityLink' },
);

export const LinkIdentityBody = Type.Object(
  {
    providerId: Uuid,
    subject: Type.String({ minLength: 1, maxLength: 512, description: "The user's id at the provider; unique per provider." }),
    userName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 256, description: "The user's login name at the provider." }))),
  },
  { additionalProperties: false, 'x-component': 'IdentityLinkCreate', examples: [{ providerId: EXAMPLE_ID, subject: '00u1a2b3c4d5e6f7g8h9', userName: 'ada.lovelace@example.com' }] },
);

export const IdentityParams = Type.Object({ id: Uuid, identityId: Uuid }, { additionalProperties: false });

export const ProviderSubjectParams = Type.Object(
  { id: Uuid, subject: Type.String({ minLength: 1, maxLength: 512, description: 'URL-encoded subject.' }) },
  { additionalProperties: false },
);
