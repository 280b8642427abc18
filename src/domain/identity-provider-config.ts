import { PEM_MAX, type ConfigFieldSpec, type ConfigSchema } from './config-schema.js';

/** Identity provider types; each declares the fields of its `config` (IDENTITY_PROVIDER_CONFIGS). */
export const IDENTITY_PROVIDER_TYPES = ['oidc', 'saml', 'azure-ad', 'google', 'ldap', 'other'] as const;
export type IdentityProviderType = (typeof IDENTITY_PROVIDER_TYPES)[number];

const text = (description: string): ConfigFieldSpec => ({ type: 'string', description });
const secret = (description: string, maxLength?: number): ConfigFieldSpec => ({ type: 'string', secret: true, description, ...(maxLength ? { maxLength } : {}) });
const pem = (description: string): ConfigFieldSpec => ({ type: 'string', maxLength: PEM_MAX, description });

/** Every type may carry provider-specific extras: `settings` is shown, `secrets` is write-only. */
const EXTRAS: ConfigSchema = {
  settings: { type: 'stringMap', description: 'Other settings of this provider, shown as stored.' },
  secrets: { type: 'stringMap', secret: true, description: 'Other secrets of this provider: every value is write-only.' },
};

/** OAuth 2.0 / OpenID Connect client settings shared by oidc, azure-ad and google. */
const OAUTH_CLIENT: ConfigSchema = {
  issuer: text('Issuer URL (the `iss` of its tokens).'),
  clientId: text('Our client id at the provider.'),
  clientSecret: secret('Our client secret at the provider.'),
  clientPrivateKey: secret('PEM private key for private_key_jwt client authentication (RFC 7523).', PEM_MAX),
  audience: text('Expected `aud` of its tokens.'),
  jwksUri: text('URL of its JSON Web Key Set.'),
  scopes: { type: 'stringArray', description: 'Scopes to request.' },
  claimMappings: { type: 'stringMap', description: 'User field → claim name, e.g. {"email": "upn"}.' },
};

/**
 * The declared config of each identity provider type. Fields marked secret are write-only:
 * stored, never returned or put in events (their names are listed in `configSecrets`); every
 * other declared field is shown; undeclared fields are refused.
 */
export const IDENTITY_PROVIDER_CONFIGS: Record<IdentityProviderType, ConfigSchema> = {
  oidc: {
    ...OAUTH_CLIENT,
    authorizationEndpoint: text('Authorization endpoint URL (when not discovered).'),
    tokenEndpoint: text('Token endpoint URL (when not discovered).'),
    userinfoEndpoint: text('UserInfo endpoint URL (when not discovered).'),
    ...EXTRAS,
  },
  'azure-ad': {
    ...OAUTH_CLIENT,
    tenantId: text('The Microsoft Entra directory (tenant) id.'),
    clientCertificate: pem('PEM certificate registered for the app (certificate credentials).'),
    ...EXTRAS,
  },
  google: {
    ...OAUTH_CLIENT,
    hostedDomain: text('Google Workspace domain (`hd`) users must belong to.'),
    serviceAccountEmail: text('Service account for the Directory API.'),
    serviceAccountPrivateKey: secret('PEM private key of the service account.', PEM_MAX),
    adminEmail: text('Workspace admin the service account acts as (domain-wide delegation).'),
    ...EXTRAS,
  },
  saml: {
    entityId: text('The IdP entity id.'),
    metadataUrl: text('URL of the IdP metadata.'),
    ssoUrl: text('IdP single sign-on URL.'),
    sloUrl: text('IdP single logout URL.'),
    idpCertificates: { type: 'stringArray', maxItems: 10, description: 'PEM certificates that sign its assertions.' },
    spEntityId: text('Our service provider entity id.'),
    spCertificate: pem('Our PEM certificate.'),
    spPrivateKey: secret('Our PEM private key (signing requests, decrypting assertions).', PEM_MAX),
    nameIdFormat: text('NameID format, e.g. urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress.'),
    signRequests: { type: 'boolean', description: 'Sign authentication requests.' },
    wantAssertionsSigned: { type: 'boolean', description: 'Refuse unsigned assertions.' },
    attributeMappings: { type: 'stringMap', description: 'User field → SAML attribute name.' },
    ...EXTRAS,
  },
  ldap: {
    url: text('ldap:// or ldaps:// URL.'),
    bindDn: text('DN to bind as.'),
    bindPassword: secret('Password of bindDn.'),
    baseDn: text('Where user searches start.'),
    userFilter: text('LDAP filter selecting users.'),
    groupFilter: text('LDAP filter selecting groups.'),
    startTls: { type: 'boolean', description: 'Upgrade ldap:// with StartTLS.' },
    caCertificate: pem('PEM CA certificate to trust.'),
    clientCertificate: pem('PEM client certificate (TLS client authentication).'),
    clientPrivateKey: secret('PEM private key of clientCertificate.', PEM_MAX),
    timeoutSeconds: { type: 'integer', description: 'Connection and search timeout.' },
    attributeMappings: { type: 'stringMap', description: 'User field → LDAP attribute name.' },
    ...EXTRAS,
  },
  other: { ...EXTRAS },
};
