import { USER_WRITABLE_FIELDS, type UserFieldValues, type UserWritableField } from './user-fields.js';
import type { UserStatus, UserStatusAlias } from './user-lifecycle.js';

export { USER_STATUSES, type UserStatus } from './user-lifecycle.js';
export { USER_WRITABLE_FIELDS, type UserWritableField };

/** A person's key in a source system (an HR feed, Entra ID…); each `{origin, key}` pair is unique per tenant. */
export interface ExternalId {
  origin: string;
  key: string;
}

/** A document or number of an identification type (passport, national id…); at most one per type. */
export interface Identification {
  typeId: string;
  value: string;
}

/**
 * A user as the services see it: every field of `USER_FIELDS` (src/domain/user-fields.ts, where
 * each is described) with its value type, plus the tenant it belongs to (never shown to clients).
 */
export interface User extends UserFieldValues {
  tenantId: string;
}

/** What a write may carry: any writable field; `status` may use an input alias (`inactive`), stored as its target. */
export type UserInput = Partial<Pick<User, Exclude<UserWritableField, 'status'>> & { status: UserStatus | UserStatusAlias }>;
