import { SCIM_ENTERPRISE_URN } from '../../domain/user-fields.js';

/**
 * The attributes of each SCIM resource Roster serves, as the PATCH engine, the request reader and
 * the filter mapping need them (RFC 7643 §2.2 characteristics): type, multi-valued, mutability,
 * case sensitivity, sub-attributes. Names are canonical; clients may write any case (RFC 7643
 * §2.1). The Schemas endpoint (scim-schema-definitions.ts) publishes the same attributes with
 * their documentation; a test checks the two agree.
 */

export const SCIM_CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export { SCIM_ENTERPRISE_URN };

export type ScimAttributeType = 'string' | 'boolean' | 'reference' | 'complex' | 'dateTime' | 'binary';
export type ScimMutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';

export interface ScimAttribute {
  name: string;
  type: ScimAttributeType;
  multiValued?: boolean;
  /** Default readWrite. */
  mutability?: ScimMutability;
  /** Strings compare exactly (true) or ignoring case (false, the default here). */
  caseExact?: boolean;
  required?: boolean;
  subAttributes?: readonly ScimAttribute[];
  /** A complex attribute whose bare string is its `value` (a manager id; a member id, as clients send them). */
  bareValue?: boolean;
  /** Most values a multi-valued attribute holds (default MAX_MULTI_VALUES in scim-document.ts). */
  maxValues?: number;
  /** The value is the id (a UUID) of a resource of this type. */
  idOf?: 'User' | 'Group';
}

const str = (name: string, extra: Partial<ScimAttribute> = {}): ScimAttribute => ({ name, type: 'string', ...extra });

/** value/display/type/primary: the sub-attributes of the standard multi-valued attributes (RFC 7643 §2.4). */
const standardMulti = (name: string, valueType: ScimAttributeType = 'string', extra: Partial<ScimAttribute> = {}): ScimAttribute => ({
  name,
  type: 'complex',
  multiValued: true,
  subAttributes: [{ name: 'value', type: valueType }, str('display'), str('type'), { name: 'primary', type: 'boolean' }],
  ...extra,
});

/** The core User schema (RFC 7643 §4.1), with `id`, `externalId` and `meta` (common, §3.1). */
export const USER_ATTRIBUTES: readonly ScimAttribute[] = [
  str('id', { mutability: 'readOnly', caseExact: true, idOf: 'User' }),
  str('externalId', { caseExact: true }),
  { name: 'meta', type: 'complex', mutability: 'readOnly', subAttributes: [str('resourceType'), { name: 'created', type: 'dateTime' }, { name: 'lastModified', type: 'dateTime' }, str('location'), str('version')] },
  str('userName', { required: true }),
  {
    name: 'name',
    type: 'complex',
    subAttributes: [str('formatted'), str('familyName'), str('givenName'), str('middleName'), str('honorificPrefix'), str('honorificSuffix')],
  },
  str('displayName'),
  str('nickName'),
  { name: 'profileUrl', type: 'reference' },
  str('title'),
  str('userType'),
  str('preferredLanguage'),
  str('locale'),
  str('timezone'),
  { name: 'active', type: 'boolean' },
  str('password', { mutability: 'writeOnly', caseExact: true }),
  standardMulti('emails'),
  standardMulti('phoneNumbers'),
  standardMulti('ims'),
  standardMulti('photos', 'reference'),
  {
    name: 'addresses',
    type: 'complex',
    multiValued: true,
    subAttributes: [str('formatted'), str('streetAddress'), str('locality'), str('region'), str('postalCode'), str('country'), str('type'), { name: 'primary', type: 'boolean' }],
  },
  {
    name: 'groups',
    type: 'complex',
    multiValued: true,
    mutability: 'readOnly',
    subAttributes: [str('value', { caseExact: true, idOf: 'Group' }), { name: '$ref', type: 'reference' }, str('display'), str('type')],
  },
  standardMulti('entitlements'),
  standardMulti('roles'),
  standardMulti('x509Certificates', 'binary'),
];

/** The enterprise User extension (RFC 7643 §4.3). */
export const ENTERPRISE_ATTRIBUTES: readonly ScimAttribute[] = [
  str('employeeNumber'),
  str('costCenter'),
  str('organization'),
  str('division'),
  str('department'),
  {
    name: 'manager',
    type: 'complex',
    bareValue: true,
    subAttributes: [str('value', { caseExact: true, idOf: 'User' }), { name: '$ref', type: 'reference', mutability: 'readOnly' }, str('displayName', { mutability: 'readOnly' })],
  },
];

/** The core Group schema (RFC 7643 §4.2), with the common attributes. */
export const GROUP_ATTRIBUTES: readonly ScimAttribute[] = [
  str('id', { mutability: 'readOnly', caseExact: true, idOf: 'Group' }),
  str('externalId', { caseExact: true }),
  { name: 'meta', type: 'complex', mutability: 'readOnly', subAttributes: USER_ATTRIBUTES[2]?.subAttributes ?? [] },
  str('displayName', { required: true }),
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    bareValue: true,
    // Groups of tens of thousands (the member change command caps one change at 100,000).
    maxValues: 100_000,
    subAttributes: [str('value', { mutability: 'immutable', caseExact: true, idOf: 'User' }), { name: '$ref', type: 'reference', mutability: 'immutable' }, str('display', { mutability: 'readOnly' }), str('type', { mutability: 'immutable' })],
  },
];

/** A resource's attributes: its core schema and extensions by URN. */
export interface ScimResourceModel {
  name: 'User' | 'Group';
  coreUrn: string;
  core: readonly ScimAttribute[];
  extensions: Readonly<Record<string, readonly ScimAttribute[]>>;
}

export const USER_MODEL: ScimResourceModel = { name: 'User', coreUrn: SCIM_CORE_USER_URN, core: USER_ATTRIBUTES, extensions: { [SCIM_ENTERPRISE_URN]: ENTERPRISE_ATTRIBUTES } };
export const GROUP_MODEL: ScimResourceModel = { name: 'Group', coreUrn: SCIM_GROUP_URN, core: GROUP_ATTRIBUTES, extensions: {} };

/** Finds an attribute by name, ignoring case (RFC 7643 §2.1). */
export function findAttribute(list: readonly ScimAttribute[] | undefined, name: string): ScimAttribute | undefined {
  const lower = name.toLowerCase();
  return list?.find((a) => a.name.toLowerCase() === lower);
}

/** The canonical spelling of an extension URN (or undefined when the model has no such extension). */
export function findExtension(model: ScimResourceModel, urn: string): string | undefined {
  const lower = urn.toLowerCase();
  return Object.keys(model.extensions).find((u) => u.toLowerCase() === lower);
}
