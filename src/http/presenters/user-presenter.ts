import type { User } from '../../domain/user.js';

/** The one place a user becomes JSON. Internal fields (tenantId) never leave. */
export function presentUser(user: User): Record<string, unknown> {
  return {
    id: user.id,
    userName: user.userName,
    email: user.email,
    givenName: user.givenName,
    familyName: user.familyName,
    displayName: user.displayName,
    title: user.title,
    department: user.department,
    employeeId: user.employeeId,
    employmentType: user.employmentType,
    costCenter: user.costCenter,
    phone: user.phone,
    country: user.country,
    locale: user.locale,
    managerId: user.managerId,
    positionId: user.positionId,
    areaId: user.areaId,
    preventDeprovision: user.preventDeprovision,
    identifications: user.identifications,
    externalIds: user.externalIds,
    attributes: user.attributes,
    tags: user.tags,
    status: user.status,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    lastLoginAt: user.lastLoginAt,
    version: user.version,
  };
}

export const USER_FIELDS = Object.keys(presentUser({} as User));

/** $select: id always, plus the fields asked for. */
export function presentUserSelected(user: User, select: readonly string[] | undefined): Record<string, unknown> {
  const full = presentUser(user);
  if (!select) return full;
  return Object.fromEntries(['id', ...select.filter((f) => f !== 'id')].map((f) => [f, full[f]]));
}

export const userEtag = (user: Pick<User, 'version'>): string => `W/"${user.version}"`;
