import type { DirectoryRecord } from './directory.js';
import type { User } from './user.js';
import type { IdentityLink } from './membership.js';
import type { Scope } from './principal.js';

/** What `$expand` can add to a user: its references and its memberships. */
export const USER_RELATIONS = ['manager', 'position', 'area', 'roles', 'groups', 'organizations', 'environments', 'identities'] as const;
export type UserRelation = (typeof USER_RELATIONS)[number];

export const isUserRelation = (name: string): name is UserRelation => (USER_RELATIONS as readonly string[]).includes(name);

/**
 * The scope an expansion needs besides `users:read`: the scope that reads the expanded records
 * on their own endpoints. Directory records (GET /v1/groups, /v1/positions, …) need
 * `directory:read`; the manager is a user and the identity links are the user's own
 * (GET /v1/users/{id}/identities), both readable with `users:read`.
 */
export const USER_RELATION_SCOPES: Record<UserRelation, Scope> = {
  manager: 'users:read',
  identities: 'users:read',
  position: 'directory:read',
  area: 'directory:read',
  roles: 'directory:read',
  groups: 'directory:read',
  organizations: 'directory:read',
  environments: 'directory:read',
};

/**
 * One relation to expand. `fields`: the public fields wanted (a nested $select); loaders may then
 * read only those columns, so records can be projections holding just these fields (and id).
 */
export interface ExpandRequest {
  relation: UserRelation;
  fields?: readonly string[] | undefined;
}

/** A link between a user and their account at an identity provider (as GET /v1/users/{id}/identities shows it). */
export type UserIdentityLink = Omit<IdentityLink, 'tenantId' | 'userId'>;

/** An environment membership: the environment and what the user may do in it. */
export interface EnvironmentMembership {
  environment: DirectoryRecord;
  permissions: string[];
}

/** The expanded relations of one user; a relation that was not asked for is absent. */
export interface UserExpansion {
  manager?: User | null;
  position?: DirectoryRecord | null;
  area?: DirectoryRecord | null;
  roles?: DirectoryRecord[];
  groups?: DirectoryRecord[];
  organizations?: DirectoryRecord[];
  environments?: EnvironmentMembership[];
  identities?: UserIdentityLink[];
}
