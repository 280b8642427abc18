import type { Scope, StoredScimSettings } from './principal.js';

/**
 * The credentials Roster issues and stores. Secrets appear here only as hashes: client secrets
 * as argon2id (`secretHash`), generated high-entropy tokens as SHA-256 (`tokenHash`) so they can
 * be looked up. Timestamps are ISO 8601 strings.
 */

/** An API client (service account, RFC 6749 confidential client): gets OAuth 2.0 access tokens. */
export interface ApiClient {
  id: string;
  tenantId: string;
  /** The public `client_id`. */
  clientId: string;
  name: string;
  secretHash: string;
  scopes: Scope[];
  /** The SCIM settings it was created with (null where none were sent); they apply while it holds `scim` or `admin`. */
  scim: StoredScimSettings;
  createdAt: string;
  updatedAt: string;
}

/** A long-lived bearer token for SCIM clients and scripts; `tokenPrefix` identifies it in lists. */
export interface ApiToken {
  id: string;
  tenantId: string;
  name: string;
  tokenHash: string;
  tokenPrefix: string;
  scopes: Scope[];
  /** The SCIM settings it was created with (null where none were sent); they apply while it holds `scim` or `admin`. */
  scim: StoredScimSettings;
  /** Who created it, as `<actorType>:<actorId>` of the creating principal. */
  createdBy: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

/**
 * A rotating refresh token (RFC 6749 §6, OAuth 2.0 Security BCP §4.14): single use; reuse of a
 * used token revokes its whole `familyId`.
 */
export interface RefreshToken {
  id: string;
  tenantId: string;
  /** The api_clients row id (not the public client_id). */
  clientRef: string;
  familyId: string;
  tokenHash: string;
  scopes: Scope[];
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

/** An Ed25519 (EdDSA) signing key for access tokens, shared by every server process; JWKs as JSON text. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: string;
  privateJwk: string;
  createdAt: string;
  retiredAt: string | null;
}
