import type { ApiClient, ApiToken } from '../../domain/credential.js';
import type { Tenant } from '../../domain/tenant.js';
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
    createdBy: token.createdBy,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    createdAt: token.createdAt,
  };
}

export const presentTenant = (tenant: Tenant): Static<typeof TenantSchema> => ({ id: tenant.id, name: tenant.name, createdAt: tenant.createdAt, updatedAt: tenant.updatedAt });
