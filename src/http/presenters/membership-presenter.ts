import type { Static } from '@sinclair/typebox';
import type { IdentityLink, MembershipChange, MembershipDefinition, MembershipTarget, UserSummary } from '../../domain/membership.js';
import type { AnyChangeSchema, AnyTargetSchema, IdentitySchema, ReportSchema } from '../schemas/membership-schemas.js';

/** A role/group/organization/environment in a user's list. */
export function presentTarget(target: MembershipTarget): Static<typeof AnyTargetSchema> {
  return {
    id: target.id,
    name: target.name,
    ...(target.weight !== undefined ? { weight: target.weight } : {}),
    ...(target.code !== undefined ? { code: target.code } : {}),
    ...(target.permissions !== undefined ? { permissions: target.permissions } : {}),
  };
}

/** A user among a resource's members or a manager's reports: a summary, never the tenant id. */
export function presentSummary(user: UserSummary): Omit<Static<typeof ReportSchema>, 'depth'> & { depth?: number; permissions?: string[] } {
  return {
    id: user.id,
    userName: user.userName,
    displayName: user.displayName,
    email: user.email,
    status: user.status,
    managerId: user.managerId,
    ...(user.permissions !== undefined ? { permissions: user.permissions } : {}),
    ...(user.depth !== undefined ? { depth: user.depth } : {}),
  };
}

/** A report carries its depth (1 = direct report). */
export const presentReport = (user: UserSummary): Static<typeof ReportSchema> => ({ ...presentSummary(user), depth: user.depth ?? 1 });

export function presentChange(def: MembershipDefinition, change: MembershipChange): Static<typeof AnyChangeSchema> {
  return { added: change.added, removed: change.removed, ...(def.permissions ? { updated: change.updated } : {}) };
}

export function presentIdentity(link: IdentityLink): Static<typeof IdentitySchema> {
  return {
    id: link.id,
    providerId: link.providerId,
    providerName: link.providerName,
    providerAlias: link.providerAlias,
    subject: link.subject,
    userName: link.userName,
    createdAt: link.createdAt,
  };
}
