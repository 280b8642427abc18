import type { ApiClient, ApiToken } from '../../domain/credential.js';
import type { Tenant } from '../../domain/tenant.js';
import { effectiveScimSettings, type Scope, type StoredScimSettings } from '../../domain/principal.js';
import type { Static } from '@sinclair/typebox';
import type { ApiTokenSchema, ClientSchema, TenantSchema } from '../schemas/credential-schemas.js';

/** Hashes never leave: only the metadata of a credential is presented, the secret at most once. */
export function presentClient(client: ApiClient): Static<typeof ClientSchema> {
  return {
    id: client.id,
    clientId: client.clientId,
    tenantId: client.tenantId,
    name: client.name,
    scopes: client.scopes,
    ...presentScimSettings(client.scopes, client.scim),
    createdAt: client.createdAt,
    updatedAt: client.updatedAt,
  };
}

export function presentApiToken(token: ApiToken): Static<typeof ApiTokenSchema> {
  return {
    id: token.id,
    name: token.name,
    prefix: token.tokenPrefix,
    scopes: token.scopes,
    ...presentScimSettings(token.scopes, token.scim),
    createdBy: token.createdBy,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    createdAt: token.createdAt,
  };
}

export const presentTenant = (tenant: Tenant): Static<typeof TenantSchema> => ({ id: tenant.id, name: tenant.name, createdAt: tenant.createdAt, updatedAt: tenant.updatedAt });

/**
 * The SCIM settings a credential acts under, as `principal.scim` will hold them: the stored values
 * and the defaults for the rest when it holds `scim` (or `admin`); all null when it does not.
 */
function presentScimSettings(scopes: readonly Scope[], stored: StoredScimSettings): Pick<Static<typeof ApiTokenSchema>, 'origin' | 'owns' | 'onDelete'> {
  const scim = effectiveScimSettings(scopes, stored);
  return scim ? { origin: scim.origin, owns: scim.owns, onDelete: scim.onDelete } : { origin: null, owns: null, onDelete: null };
}
