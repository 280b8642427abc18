import type { ErrorCode } from '../errors/error-codes.js';
import { DIRECTORY, ENVIRONMENT_PERMISSIONS, type DirectoryDefinition, type DirectoryMembership, type MembershipKind } from './directory.js';

/**
 * Memberships: a user belongs to roles, groups, organizations and environments. Each kind is a
 * table (user_roles, …) keyed by (user_id, target id); environments also carry permissions.
 * Every kind has the same verbs on both sides (the user's list, the resource's members). The
 * kinds are described once, on their DIRECTORY entries; this module derives the lookup table.
 */
export type { MembershipKind } from './directory.js';

export type EnvironmentPermission = (typeof ENVIRONMENT_PERMISSIONS)[number];
export { ENVIRONMENT_PERMISSIONS };

/** What a new environment membership grants when the caller names no permissions. */
export const DEFAULT_ENVIRONMENT_PERMISSIONS: readonly EnvironmentPermission[] = ['view'];

/** Bounds of one full replace (PUT) of a user's list. */
export const MAX_MEMBERSHIPS_PER_REPLACE = 1000;

/** How deep `reports?depth=all` follows the manager tree (a guard, not a business limit). */
export const MAX_REPORTS_DEPTH = 1000;

/** A membership kind with its target's definition: everything the generic membership code needs. */
export interface MembershipDefinition extends DirectoryMembership {
  /** The target kind's definition (table, notFound code, fields). */
  target: DirectoryDefinition;
  /** The target's own table; also the URL segment of the resource side (/v1/<kind>/{id}/members). */
  targetTable: 'roles' | 'groups' | 'organizations' | 'environments';
  /** Singular, for messages. */
  label: string;
  notFound: ErrorCode;
}

export const MEMBERSHIPS = Object.fromEntries(
  Object.values(DIRECTORY).flatMap((def) =>
    def.membership ? [[def.membership.kind, { ...def.membership, target: def, targetTable: def.table, label: def.kind, notFound: def.notFound }]] : [],
  ),
) as Record<MembershipKind, MembershipDefinition>;

export const MEMBERSHIP_KINDS = Object.keys(MEMBERSHIPS) as MembershipKind[];

/** One membership as stored: the target and (environments only) the permissions it grants. */
export interface MembershipEntry {
  targetId: string;
  permissions?: EnvironmentPermission[];
}

/** A role/group/organization/environment as listed for a user. */
export interface MembershipTarget {
  id: string;
  name: string;
  weight?: number;
  code?: string;
  permissions?: EnvironmentPermission[];
}

/** A user as listed among a resource's members or a manager's reports. */
export interface UserSummary {
  id: string;
  userName: string;
  displayName: string;
  email: string | null;
  status: string;
  managerId: string | null;
  permissions?: EnvironmentPermission[];
  depth?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageQuery {
  limit: number;
  cursor?: string | undefined;
}

/** What a change did to one user's list (ids sorted). `updated`: environments whose permissions changed. */
export interface MembershipChange {
  added: string[];
  removed: string[];
  updated: string[];
}

/** What events record of an identity link (user.identity_linked / user.identity_unlinked). */
export const identityEventView = (link: IdentityLink) => ({ id: link.id, providerId: link.providerId, subject: link.subject, userName: link.userName });

/** A link between a user and their account at an identity provider. */
export interface IdentityLink {
  id: string;
  tenantId: string;
  userId: string;
  providerId: string;
  providerName: string;
  providerAlias: string;
  subject: string;
  userName: string | null;
  createdAt: string;
}

export interface IdentityLinkInput {
  providerId: string;
  subject: string;
  userName?: string | null | undefined;
}

/** Permissions in their canonical order, each once: equal sets compare equal. */
export function normalizePermissions(permissions: readonly EnvironmentPermission[]): EnvironmentPermission[] {
  const set = new Set(permissions);
  return ENVIRONMENT_PERMISSIONS.filter((p) => set.has(p));
}

const samePermissions = (a: readonly EnvironmentPermission[] | undefined, b: readonly EnvironmentPermission[] | undefined): boolean =>
  normalizePermissions(a ?? []).join(',') === normalizePermissions(b ?? []).join(',');

/** The difference between the stored list and the wanted one (a full replace). */
export function diffMemberships(current: readonly MembershipEntry[], desired: readonly MembershipEntry[], withPermissions: boolean): MembershipChange {
  const before = new Map(current.map((e) => [e.targetId, e]));
  const after = new Map(desired.map((e) => [e.targetId, e]));
  const added = [...after.keys()].filter((id) => !before.has(id)).sort();
  const removed = [...before.keys()].filter((id) => !after.has(id)).sort();
  const updated = withPermissions
    ? [...after.keys()].filter((id) => before.has(id) && !samePermissions(before.get(id)?.permissions, after.get(id)?.permissions)).sort()
    : [];
  return { added, removed, updated };
}

export const isEmptyChange = (c: MembershipChange): boolean => c.added.length === 0 && c.removed.length === 0 && c.updated.length === 0;

/**
 * The `changes` of a `user.memberships_changed` event: the sorted id lists before and after
 * (`{ groups: { from, to } }`); for environments also `environmentPermissions`, the permissions
 * per environment before and after, when they differ. Same shape as the event the directory
 * writes when a role/group/… is deleted.
 */
export function membershipEventChanges(def: MembershipDefinition, before: readonly MembershipEntry[], after: readonly MembershipEntry[]): Record<string, { from: unknown; to: unknown }> {
  const ids = (entries: readonly MembershipEntry[]) => entries.map((e) => e.targetId).sort();
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const from = ids(before);
  const to = ids(after);
  if (from.join(',') !== to.join(',')) changes[def.kind] = { from, to };
  if (def.permissions) {
    const perms = (entries: readonly MembershipEntry[]) =>
      Object.fromEntries([...entries].sort((a, b) => (a.targetId < b.targetId ? -1 : 1)).map((e) => [e.targetId, normalizePermissions(e.permissions ?? [])]));
    const pFrom = perms(before);
    const pTo = perms(after);
    if (JSON.stringify(pFrom) !== JSON.stringify(pTo)) changes.environmentPermissions = { from: pFrom, to: pTo };
  }
  return changes;
}

/** Applies a change to a list: the list after it (for events). */
export function applyEntries(current: readonly MembershipEntry[], upserts: readonly MembershipEntry[], removedIds: readonly string[]): MembershipEntry[] {
  const map = new Map(current.map((e) => [e.targetId, e]));
  for (const id of removedIds) map.delete(id);
  for (const e of upserts) map.set(e.targetId, e);
  return [...map.values()];
}
