/*
 * What Roster's SCIM 2.0 service provider declares about itself, as data: the URNs it speaks, the
 * schemas of its resources (RFC 7643 §7 representation), its resource types (§6) and its
 * service provider configuration (§5, with RFC 9865 paging). The discovery endpoints serve these
 * values; the resource routes read their limits and URNs from here, so what is advertised and
 * what is enforced are one definition.
 */

/** Every URN the SCIM adapter reads or writes (RFC 7643 §8.7, RFC 7644 §3). */
export const SCIM_URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  bulkRequest: 'urn:ietf:params:scim:api:messages:2.0:BulkRequest',
  bulkResponse: 'urn:ietf:params:scim:api:messages:2.0:BulkResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

/** The limits the ServiceProviderConfig advertises; the resource routes enforce these same numbers. */
export const SCIM_LIMITS = {
  bulkMaxOperations: 1000,
  /** Bytes of a /Bulk request body: the /Bulk route's own bodyLimit (the app default is smaller). */
  bulkMaxPayloadSize: 4_194_304,
  filterMaxResults: 1000,
  defaultPageSize: 100,
  maxPageSize: 1000,
  /** Seconds a cursor stays usable (RFC 9865 `cursorTimeout`). */
  cursorTimeout: 3600,
} as const;

export type ScimAttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'binary' | 'reference' | 'complex';

/** One attribute definition as RFC 7643 §7 represents it. */
export interface ScimAttribute {
  name: string;
  type: ScimAttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  /** Only for string, reference and binary attributes. */
  caseExact?: boolean;
  canonicalValues?: readonly string[];
  referenceTypes?: readonly string[];
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: readonly ScimAttribute[];
}

/** A schema resource without its `schemas` and `meta`, which the discovery routes add. */
export interface ScimSchemaDefinition {
  id: string;
  name: string;
  description: string;
  attributes: readonly ScimAttribute[];
}

type Options = Partial<Omit<ScimAttribute, 'name' | 'type' | 'description'>>;

/** An attribute with RFC 7643 §2.2's defaults: single-valued, optional, readWrite, returned by default, not unique, case-insensitive. */
function attribute(name: string, type: ScimAttributeType, description: string, options: Options = {}): ScimAttribute {
  const textual = type === 'string' || type === 'reference' || type === 'binary';
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    ...(textual ? { caseExact: false } : {}),
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  };
}

const text = (name: string, description: string, options?: Options) => attribute(name, 'string', description, options);

function complex(name: string, description: string, subAttributes: readonly ScimAttribute[], options: Options = {}): ScimAttribute {
  return attribute(name, 'complex', description, { ...options, subAttributes });
}

/**
 * The usual multi-valued attribute of RFC 7643 §2.4: value, display, type (with the canonical
 * values the RFC gives) and primary.
 */
function plural(name: string, description: string, extra: { types?: readonly string[]; value?: ScimAttribute } = {}): ScimAttribute {
  return complex(
    name,
    description,
    [
      extra.value ?? text('value', `The value of one of the User's ${name}.`),
      text('display', 'A human-readable name, primarily used for display purposes.'),
      text('type', "A label indicating the value's function.", extra.types ? { canonicalValues: extra.types } : {}),
      attribute('primary', 'boolean', "Whether this is the primary or preferred value; 'true' appears at most once."),
    ],
    { multiValued: true },
  );
}

const ADDRESS_PARTS: readonly [string, string][] = [
  ['formatted', 'The full mailing address, formatted for display or use with a mailing label; may contain newlines.'],
  ['streetAddress', 'The full street address: house number, street name, P.O. box, extended lines.'],
  ['locality', 'The city or locality.'],
  ['region', 'The state or region.'],
  ['postalCode', 'The zip code or postal code.'],
  ['country', 'The country name component.'],
];

/** RFC 7643 §4.1 and §8.7.1. `id`, `externalId` and `meta` are common attributes (§3.1), not listed here. */
export const SCIM_USER_SCHEMA: ScimSchemaDefinition = {
  id: SCIM_URN.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    text('userName', 'Unique identifier for the User, typically used to sign in; unique within the tenant. REQUIRED.', { required: true, uniqueness: 'server' }),
    complex('name', "The components of the user's real name.", [
      text('formatted', 'The full name, formatted for display.'),
      text('familyName', 'The family name (last name in most Western languages).'),
      text('givenName', 'The given name (first name in most Western languages).'),
      text('middleName', 'The middle name(s).'),
      text('honorificPrefix', "The honorific prefix(es), e.g. 'Ms.'."),
      text('honorificSuffix', "The honorific suffix(es), e.g. 'III'."),
    ]),
    text('displayName', 'The name of the User, suitable for display to end-users.'),
    text('nickName', 'The casual way to address the user.'),
    attribute('profileUrl', 'reference', "A fully qualified URL of the User's online profile.", { referenceTypes: ['external'] }),
    text('title', "The user's title, such as 'Vice President'."),
    text('userType', "The relationship between the organization and the user, e.g. 'Employee' or 'Contractor'."),
    text('preferredLanguage', "The User's preferred written or spoken language (RFC 7231 Accept-Language form, e.g. 'en-US')."),
    text('locale', "The User's default location for localizing currency, dates and numbers, e.g. 'en-US'."),
    text('timezone', "The User's time zone in the IANA ('Olson') database format, e.g. 'America/Los_Angeles'."),
    attribute('active', 'boolean', "The User's administrative status."),
    text('password', "The User's cleartext password, to set or reset it; never returned.", { mutability: 'writeOnly', returned: 'never' }),
    plural('emails', 'Email addresses for the User.', { types: ['work', 'home', 'other'] }),
    plural('phoneNumbers', 'Phone numbers for the User (RFC 3966 form, e.g. tel:+1-201-555-0123).', { types: ['work', 'home', 'mobile', 'fax', 'pager', 'other'] }),
    plural('ims', 'Instant messaging addresses for the User.', { types: ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'] }),
    plural('photos', 'URLs of photos of the User.', { types: ['photo', 'thumbnail'], value: attribute('value', 'reference', 'URL of a photo of the User.', { referenceTypes: ['external'] }) }),
    complex(
      'addresses',
      'Physical mailing addresses for the User.',
      [
        ...ADDRESS_PARTS.map(([name, description]) => text(name, description)),
        text('type', "A label indicating the address's function, e.g. 'work' or 'home'.", { canonicalValues: ['work', 'home', 'other'] }),
        attribute('primary', 'boolean', "Whether this is the primary mailing address; 'true' appears at most once."),
      ],
      { multiValued: true },
    ),
    complex(
      'groups',
      'The groups the User belongs to; changed through the Group resource, not here.',
      [
        text('value', "The identifier of the User's group.", { mutability: 'readOnly' }),
        attribute('$ref', 'reference', 'The URI of the Group resource.', { referenceTypes: ['User', 'Group'], mutability: 'readOnly' }),
        text('display', 'The name of the group.', { mutability: 'readOnly' }),
        text('type', "'direct' or 'indirect' membership.", { canonicalValues: ['direct', 'indirect'], mutability: 'readOnly' }),
      ],
      { multiValued: true, mutability: 'readOnly' },
    ),
    plural('entitlements', 'Entitlements of the User: things the User has.'),
    plural('roles', "Roles of the User, e.g. 'Student' or 'Faculty'."),
    plural('x509Certificates', 'Certificates issued to the User.', { value: attribute('value', 'binary', 'A DER-encoded X.509 certificate (base64).') }),
  ],
};

/** RFC 7643 §4.3. */
export const SCIM_ENTERPRISE_USER_SCHEMA: ScimSchemaDefinition = {
  id: SCIM_URN.enterpriseUser,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    text('employeeNumber', 'A string identifier, typically numeric or alphanumeric, assigned to a person by the organization.'),
    text('costCenter', 'The name of a cost center.'),
    text('organization', 'The name of an organization.'),
    text('division', 'The name of a division.'),
    text('department', 'The name of a department.'),
    complex("manager", "The User's manager.", [
      text('value', 'The id of the SCIM resource representing the manager.'),
      attribute('$ref', 'reference', 'The URI of the SCIM resource representing the manager.', { referenceTypes: ['User'] }),
      text('displayName', "The displayName of the User's manager.", { mutability: 'readOnly' }),
    ]),
  ],
};

/** RFC 7643 §4.2 and §8.7.1. Roster group names are unique in a tenant and groups hold users only. */
export const SCIM_GROUP_SCHEMA: ScimSchemaDefinition = {
  id: SCIM_URN.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    text('displayName', 'A human-readable name for the Group; unique within the tenant. REQUIRED.', { required: true, uniqueness: 'server' }),
    complex(
      'members',
      'The members of the Group.',
      [
        text('value', 'The id of the member.', { mutability: 'immutable' }),
        attribute('$ref', 'reference', 'The URI of the member resource.', { referenceTypes: ['User'], mutability: 'immutable' }),
        text('display', 'The name of the member.', { mutability: 'readOnly' }),
        text('type', 'The type of the member.', { canonicalValues: ['User'], mutability: 'immutable' }),
      ],
      { multiValued: true },
    ),
  ],
};

/** The schemas /Schemas serves, in its order. */
export const SCIM_SCHEMAS: readonly ScimSchemaDefinition[] = [SCIM_USER_SCHEMA, SCIM_ENTERPRISE_USER_SCHEMA, SCIM_GROUP_SCHEMA];

/** The URNs of the schemas /Schemas serves. */
export const SCIM_SCHEMA_URNS: readonly string[] = SCIM_SCHEMAS.map((schema) => schema.id);

/** A resource type (RFC 7643 §6) without its `schemas` and `meta`. */
export interface ScimResourceTypeDefinition {
  id: string;
  name: string;
  /** Relative to the SCIM base URL. */
  endpoint: string;
  description: string;
  schema: string;
  schemaExtensions?: readonly { schema: string; required: boolean }[];
}

export const SCIM_RESOURCE_TYPES: readonly ScimResourceTypeDefinition[] = [
  { id: 'User', name: 'User', endpoint: '/Users', description: 'User Account', schema: SCIM_URN.user, schemaExtensions: [{ schema: SCIM_URN.enterpriseUser, required: false }] },
  { id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Group', schema: SCIM_URN.group },
];

/** RFC 7643 §5 and RFC 9865 §4, without `meta`. */
export const SCIM_SERVICE_PROVIDER_CONFIG = {
  schemas: [SCIM_URN.serviceProviderConfig],
  patch: { supported: true },
  bulk: { supported: true, maxOperations: SCIM_LIMITS.bulkMaxOperations, maxPayloadSize: SCIM_LIMITS.bulkMaxPayloadSize },
  filter: { supported: true, maxResults: SCIM_LIMITS.filterMaxResults },
  changePassword: { supported: true },
  sort: { supported: true },
  etag: { supported: true },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'An access token from /v1/oauth/token (client credentials) or a Roster API token, sent as "Authorization: Bearer <token>".',
      specUri: 'https://www.rfc-editor.org/info/rfc6750',
      primary: true,
    },
  ],
  pagination: {
    cursor: true,
    index: true,
    defaultPaginationMethod: 'index',
    defaultPageSize: SCIM_LIMITS.defaultPageSize,
    maxPageSize: SCIM_LIMITS.maxPageSize,
    cursorTimeout: SCIM_LIMITS.cursorTimeout,
  },
} as const;
