import type { UserStatus, UserStatusAlias } from './user-lifecycle.js';

export { USER_STATUSES, type UserStatus } from './user-lifecycle.js';

export interface ExternalId {
  origin: string;
  key: string;
}

export interface Identification {
  typeId: string;
  value: string;
}

export interface User {
  id: string;
  tenantId: string;
  userName: string;
  email: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string;
  title: string | null;
  department: string | null;
  employeeId: string | null;
  employmentType: string | null;
  costCenter: string | null;
  phone: string | null;
  country: string | null;
  locale: string | null;
  managerId: string | null;
  positionId: string | null;
  areaId: string | null;
  preventDeprovision: boolean;
  identifications: Identification[];
  externalIds: ExternalId[];
  attributes: Record<string, unknown>;
  tags: string[];
  status: UserStatus;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
  version: number;
}

/** Fields a client writes. Everything else (id, timestamps, version) is the server's. */
export const USER_WRITABLE_FIELDS = [
  'userName', 'email', 'givenName', 'familyName', 'displayName', 'title', 'department', 'employeeId',
  'employmentType', 'costCenter', 'phone', 'country', 'locale', 'managerId', 'positionId', 'areaId',
  'preventDeprovision', 'identifications', 'externalIds', 'attributes', 'tags', 'status',
] as const;
export type UserWritableField = (typeof USER_WRITABLE_FIELDS)[number];
/** What a write sends: any writable field; `status` may use an input alias (`inactive`). */
export type UserInput = Partial<Omit<Pick<User, UserWritableField>, 'status'>> & { status?: UserStatus | UserStatusAlias };
