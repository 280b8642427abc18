import { Type } from '@sinclair/typebox';
import { SCIM_ON_DELETE, SCIM_ORIGIN_MAX_LENGTH, SCIM_OWNS, SCOPES } from '../../domain/principal.js';
import { Nullable, PageSizeQuery, Timestamp, Uuid } from './common-schemas.js';

const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));
const ScopeList = Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: SCOPES.length * 2, description: `Any of: ${SCOPES.join(', ')}.` });
const Name = Type.String({ minLength: 1, maxLength: 200 });

const ORIGIN_DOC = 'The externalIds origin this credential\'s SCIM `externalId` reads and writes, e.g. "entra", so two identity providers never overwrite each other\'s ids.';
const OWNS_DOC = '`own`: the SCIM client sees only the users and groups it provisioned (others answer 404); `all`: every one in the tenant.';
const ON_DELETE_DOC = 'What DELETE /scim/v2/Users/{id} does: `delete` the user or `suspend` it.';
const Owns = (description: string) => Type.Union(SCIM_OWNS.map((v) => Type.Literal(v)), { description });
const OnDelete = (description: string) => Type.Union(SCIM_ON_DELETE.map((v) => Type.Literal(v)), { description });
/** The SCIM settings a create request may send: only with the `scim` (or `admin`) scope; defaults `scim`, `own`, `delete`. */
const ScimSettingsInput = {
  origin: Type.Optional(Type.String({
    minLength: 1, maxLength: SCIM_ORIGIN_MAX_LENGTH, description: `${ORIGIN_DOC} Letters, digits and printable ASCII (no spaces); 1–${SCIM_ORIGIN_MAX_LENGTH} characters. Default "scim".`,
  })),
  owns: Type.Optional(Owns(`${OWNS_DOC} Default \`own\`.`)),
  onDelete: Type.Optional(OnDelete(`${ON_DELETE_DOC} Default \`delete\`.`)),
};
/** The SCIM settings a credential acts under: the effective values (stored or default) when it holds `scim` or `admin`, null otherwise. */
const ScimSettingsOutput = {
  origin: Nullable(Type.String({ description: `${ORIGIN_DOC} Null when the credential lacks the scim (and admin) scope.` })),
  owns: Nullable(Owns(OWNS_DOC)),
  onDelete: Nullable(OnDelete(ON_DELETE_DOC)),
};

export const TenantSchema = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Timestamp, updatedAt: Timestamp }, { 'x-component': 'Tenant' });
export const CreateTenantBody = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,62}$', description: 'Lowercase letters, digits and hyphens; 2–63 characters.' }),
    name: Name,
  },
  { additionalProperties: false, 'x-component': 'TenantCreate', examples: [{ id: 'acme', name: 'Acme Inc.' }] },
);
export const TenantIdParams = Type.Object({ id: Type.String({ maxLength: 63 }) }, { additionalProperties: false });

export const ClientSchema = Type.Object({
  id: Uuid,
  clientId: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  ...ScimSettingsOutput,
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { 'x-component': 'Client' });
export const ClientWithSecretSchema = Type.Object({
  ...ClientSchema.properties,
  clientSecret: Type.String({ description: 'Shown once. Only a hash is stored.' }),
}, { 'x-component': 'ClientWithSecret' });
export const CreateClientBody = Type.Object(
  {
    name: Name,
    scopes: ScopeList,
    tenantId: Type.Optional(Type.String({ maxLength: 63, description: 'Another tenant (installation admins only).' })),
    clientId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._~-]{3,128}$', description: 'Defaults to a generated id.' })),
    ...ScimSettingsInput,
  },
  { additionalProperties: false, 'x-component': 'ClientCreate', examples: [{ name: 'HR sync', scopes: ['users:read', 'users:write'] }] },
);
export const ClientListQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' })),
    tenantId: Type.Optional(Type.String({ maxLength: 63 })),
  },
  { additionalProperties: false },
);

export const ApiTokenSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the token, to recognise it.' }),
  scopes: Type.Array(ScopeSchema),
  ...ScimSettingsOutput,
  createdBy: Type.String(),
  expiresAt: Nullable(Timestamp),
  lastUsedAt: Nullable(Timestamp),
  createdAt: Timestamp,
}, { 'x-component': 'ApiToken' });
export const ApiTokenWithSecretSchema = Type.Object({
  ...ApiTokenSchema.properties,
  token: Type.String({ description: 'Shown once. Use as "Authorization: Bearer <token>".' }),
}, { 'x-component': 'ApiTokenWithSecret' });
export const CreateApiTokenBody = Type.Object(
  { name: Name, scopes: ScopeList, expiresAt: Type.Optional(Type.String({ format: 'date-time' })), ...ScimSettingsInput },
  { additionalProperties: false, 'x-component': 'ApiTokenCreate', examples: [{ name: 'Reporting', scopes: ['users:read', 'directory:read'] }] },
);

export const TokenRequestBody = Type.Object(
  {
    grant_type: Type.String({ maxLength: 64, description: 'client_credentials or refresh_token' }),
    client_id: Type.Optional(Type.String({ maxLength: 256 })),
    client_secret: Type.Optional(Type.String({ maxLength: 1024 })),
    refresh_token: Type.Optional(Type.String({ maxLength: 1024 })),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  // RFC 6749 §3.2: unrecognised parameters are ignored, not rejected.
  {
    additionalProperties: true,
    'x-component': 'TokenRequest',
    examples: [{ grant_type: 'client_credentials', client_id: 'my-client', client_secret: 'my-client-secret', scope: 'users:read' }],
  },
);
export const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  scope: Type.String(),
}, { 'x-component': 'TokenResponse' });
export const RevokeRequestBody = Type.Object(
  {
    token: Type.String({ maxLength: 4096 }),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
    client_id: Type.Optional(Type.String({ maxLength: 256 })),
    client_secret: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: true, 'x-component': 'RevokeRequest', examples: [{ token: '<refresh or access token>', token_type_hint: 'refresh_token' }] },
);
export const OAuthErrorSchema = Type.Object({ error: Type.String(), error_description: Type.String() }, { 'x-component': 'OAuthError', title: 'OAuth error (RFC 6749 §5.2)' });
