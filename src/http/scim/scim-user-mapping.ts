import { identifierKey } from '../../domain/identifier-key.js';
import { freeJsonProblem } from '../../domain/storable-values.js';
import type { ExternalId, User, UserInput } from '../../domain/user.js';
import { USER_FIELDS, type UserFieldName } from '../../domain/user-fields.js';
import type { FieldPath, FilterNode } from '../../filter/filter-ast.js';
import type { ScimPatchPath } from '../../filter/scim-filter-ast.js';
import type { ScimAttributeResolution } from '../../filter/scim-filter-converter.js';
import { isUuid } from '../../lib/ids.js';
import { ENTERPRISE_ATTRIBUTES, SCIM_CORE_USER_URN, SCIM_ENTERPRISE_URN, USER_ATTRIBUTES, findAttribute } from './scim-attributes.js';
import { scimFail, scimMeta, type ScimDocument } from './scim-document.js';
import { mapConditions, scopeCollection, scopeManager } from './scim-filter-scope.js';

/**
 * The SCIM User (RFC 7643 §4.1, §4.3) and Roster's user, both ways. The singular attributes come
 * from USER_FIELDS (each field's `scim` names its attribute); the multi-valued attributes Roster
 * has no column for are kept as sent in the user's `profile`, except that the primary (else work,
 * else first) email and phone number are also the native `email` and `phone`; `externalId` is the
 * user's external id for the credential's origin; `active` is the lifecycle status.
 */

/** Multi-valued attributes kept in `profile` as sent. */
const PROFILE_LISTS = ['emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'entitlements', 'roles', 'x509Certificates'] as const;
/** Name parts without a native field, kept in `profile.name`. */
const PROFILE_NAME_PARTS = ['formatted', 'middleName', 'honorificPrefix', 'honorificSuffix'] as const;

/** `scim` path of a USER_FIELDS entry → the field. Paths: `title`, `name.givenName`, `<enterprise URN>:manager.value`. */
const FIELD_BY_SCIM = new Map<string, UserFieldName>(
  (Object.entries(USER_FIELDS) as [UserFieldName, { scim?: string }][]).flatMap(([name, f]) => (f.scim ? [[f.scim.toLowerCase(), name] as const] : [])),
);

/** Native text fields and where they sit in the document: [field, container, attribute, sub-attribute?]. */
interface Placement {
  field: UserFieldName;
  /** null: the core; otherwise the extension URN. */
  extension: string | null;
  attribute: string;
  sub?: string;
}

const PLACEMENTS: readonly Placement[] = [...FIELD_BY_SCIM.entries()].map(([scim, field]) => {
  const extension = scim.startsWith(SCIM_ENTERPRISE_URN.toLowerCase() + ':') ? SCIM_ENTERPRISE_URN : null;
  const local = extension ? scim.slice(extension.length + 1) : scim;
  const [attribute, sub] = local.split('.') as [string, string | undefined];
  const attributes = extension ? ENTERPRISE_ATTRIBUTES : USER_ATTRIBUTES;
  const found = findAttribute(attributes, attribute);
  if (!found) throw new Error(`USER_FIELDS maps ${field} to unknown SCIM attribute ${scim}`);
  const subFound = sub === undefined ? undefined : findAttribute(found.subAttributes, sub);
  return { field, extension, attribute: found.name, ...(subFound ? { sub: subFound.name } : {}) };
});

/** Who reads and writes: the credential's origin decides which external id is `externalId`. */
export interface ScimUserContext {
  origin: string;
}

/**
 * What of one user the credential may not see: a manager another origin provisioned, for a
 * credential limited to its own users. Hidden, it is neither shown nor cleared by a write that
 * leaves `manager` out.
 */
export interface ScimUserView {
  managerHidden?: boolean;
}

/** The user as a canonical SCIM document (no id, meta or groups): what a PATCH starts from. */
export function userToDocument(user: User, ctx: ScimUserContext, view: ScimUserView = {}): ScimDocument {
  const doc: ScimDocument = {};
  const enterprise: ScimDocument = {};
  for (const p of PLACEMENTS) {
    if (p.field === 'managerId' && view.managerHidden) continue;
    const value = user[p.field];
    if (value === null || value === undefined || value === '') continue;
    const container = p.extension ? enterprise : doc;
    if (p.sub) container[p.attribute] = { ...(container[p.attribute] as ScimDocument | undefined), [p.sub]: value };
    else container[p.attribute] = value;
  }
  const profile = user.profile as Record<string, unknown>;
  const nameParts = isObject(profile.name) ? profile.name : {};
  for (const part of PROFILE_NAME_PARTS) {
    if (typeof nameParts[part] === 'string') doc.name = { ...(doc.name as ScimDocument | undefined), [part]: nameParts[part] };
  }
  for (const list of PROFILE_LISTS) {
    const items = Array.isArray(profile[list]) ? (profile[list] as unknown[]).filter(isObject) : [];
    if (items.length > 0) doc[list] = items;
  }
  // Users written through the native API have an email and a phone but no lists: show them.
  if (doc.emails === undefined && user.email) doc.emails = [{ value: user.email, type: 'work', primary: true }];
  if (doc.phoneNumbers === undefined && user.phone) doc.phoneNumbers = [{ value: user.phone, type: 'work', primary: true }];
  const externalId = user.externalIds.find((e) => identifierKey(e.origin) === identifierKey(ctx.origin))?.key;
  if (externalId !== undefined) doc.externalId = externalId;
  doc.active = user.status === 'active';
  if (Object.keys(enterprise).length > 0) doc[SCIM_ENTERPRISE_URN] = enterprise;
  return doc;
}

/**
 * The user input a SCIM document asks for (POST, PUT, or a PATCH's result): every SCIM-mapped
 * field from the document (absent means cleared), the fields SCIM does not describe (tags,
 * custom attributes, other origins' external ids, position, area…) kept from `current`. The
 * status changes only when `active` differs from what the user shows now.
 * Errors: 400 invalidValue for a manager that is not an id.
 */
export function documentToUserInput(doc: ScimDocument, current: User | null, ctx: ScimUserContext, view: ScimUserView = {}): UserInput {
  const input: Record<string, unknown> = {};
  const enterprise = (isObject(doc[SCIM_ENTERPRISE_URN]) ? doc[SCIM_ENTERPRISE_URN] : {}) as ScimDocument;
  for (const p of PLACEMENTS) {
    const container = p.extension ? enterprise : doc;
    const raw = p.sub ? (isObject(container[p.attribute]) ? (container[p.attribute] as ScimDocument)[p.sub] : undefined) : container[p.attribute];
    input[p.field] = raw ?? null;
  }
  if (input.managerId !== null && !isUuid(String(input.managerId).toLowerCase())) {
    scimFail('scim.invalid_value', `manager.value must be the id of a user of this tenant, not ${JSON.stringify(input.managerId)}.`);
  }
  if (typeof input.managerId === 'string') input.managerId = input.managerId.toLowerCase();
  // A manager the credential cannot see stays unless the document names another.
  if (input.managerId === null && view.managerHidden && current) input.managerId = current.managerId;

  const profile: Record<string, unknown> = current ? { ...(current.profile as Record<string, unknown>) } : {};
  const name = isObject(doc.name) ? doc.name : {};
  const nameParts = Object.fromEntries(PROFILE_NAME_PARTS.flatMap((part) => (name[part] === undefined ? [] : [[part, name[part]]])));
  if (Object.keys(nameParts).length > 0) profile.name = nameParts;
  else delete profile.name;
  for (const list of PROFILE_LISTS) {
    if (Array.isArray(doc[list]) && (doc[list] as unknown[]).length > 0 && !synthesised(current, list, doc[list])) profile[list] = doc[list];
    else delete profile[list];
  }
  const problem = freeJsonProblem(profile);
  if (problem !== undefined) scimFail('scim.invalid_value', `The attributes Roster keeps as sent (name parts, emails, phoneNumbers, addresses…) are too large together: ${problem}.`);
  input.profile = profile;
  input.email = preferred(doc.emails);
  input.phone = preferred(doc.phoneNumbers);

  const others: ExternalId[] = (current?.externalIds ?? []).filter((e) => identifierKey(e.origin) !== identifierKey(ctx.origin));
  input.externalIds = typeof doc.externalId === 'string' ? [...others, { origin: ctx.origin, key: doc.externalId }] : others;

  if (current) {
    // Fields SCIM does not describe stay as they are.
    for (const field of ['identifications', 'attributes', 'tags', 'positionId', 'areaId', 'preventDeprovision', 'country'] as const) input[field] = current[field];
    const isActive = current.status === 'active';
    if (typeof doc.active === 'boolean' && doc.active !== isActive) input.status = doc.active ? 'active' : 'suspended';
  } else if (doc.active === false) {
    input.status = 'suspended';
  }
  return input as UserInput;
}

/**
 * Whether `value` is only the list userToDocument shows for a user written through the native API
 * (its email or phone as the one primary work value): keeping it would change the user's profile
 * on a write that changed nothing.
 */
function synthesised(current: User | null, list: string, value: unknown): boolean {
  if (!current || (current.profile as Record<string, unknown>)[list] !== undefined) return false;
  const native = list === 'emails' ? current.email : list === 'phoneNumbers' ? current.phone : null;
  return native !== null && JSON.stringify(value) === JSON.stringify([{ value: native, type: 'work', primary: true }]);
}

/** The value of the primary element, else of type work, else the first: what the native single field holds. */
function preferred(list: unknown): string | null {
  if (!Array.isArray(list)) return null;
  const items = list.filter(isObject);
  const pick = items.find((i) => i.primary === true) ?? items.find((i) => typeof i.type === 'string' && i.type.toLowerCase() === 'work') ?? items[0];
  return typeof pick?.value === 'string' ? pick.value : null;
}

/** What a SCIM User response shows beyond the document: groups, the manager's name, where it lives. */
export interface ScimUserExtras {
  groups?: { id: string; name: string }[];
  managerDisplayName?: string | null;
  /** The manager is one the credential may not see: not shown. */
  managerHidden?: boolean;
  /** e.g. https://host/scim/v2 */
  baseUrl: string;
}

/** The SCIM User representation of a user (RFC 7643 §4.1; password never). */
export function presentScimUser(user: User, ctx: ScimUserContext, extras: ScimUserExtras): ScimDocument {
  const doc = userToDocument(user, ctx, { managerHidden: extras.managerHidden === true });
  const enterprise = doc[SCIM_ENTERPRISE_URN] as ScimDocument | undefined;
  if (enterprise && isObject(enterprise.manager) && user.managerId) {
    enterprise.manager = {
      value: user.managerId,
      $ref: `${extras.baseUrl}/Users/${user.managerId}`,
      ...(extras.managerDisplayName ? { displayName: extras.managerDisplayName } : {}),
    };
  }
  const out: ScimDocument = {
    schemas: enterprise ? [SCIM_CORE_USER_URN, SCIM_ENTERPRISE_URN] : [SCIM_CORE_USER_URN],
    id: user.id,
    ...doc,
  };
  if (extras.groups && extras.groups.length > 0) {
    out.groups = extras.groups.map((g) => ({ value: g.id, $ref: `${extras.baseUrl}/Groups/${g.id}`, display: g.name, type: 'direct' }));
  }
  out.meta = scimMeta('User', user, extras.baseUrl);
  return out;
}

/** SCIM attribute (lower-case path) → the user filter field it compares, for filters and sortBy. */
const FILTER_PATHS = new Map<string, FieldPath>([
  ['id', ['id']],
  ['meta.created', ['createdAt']],
  ['meta.lastmodified', ['updatedAt']],
  ...[...FIELD_BY_SCIM.entries()].map(([scim, field]) => [scim, [field]] as [string, FieldPath]),
]);

/** Element keys of the profile lists the filter schema knows (repositories/user-query.ts). */
const LIST_FILTER_FIELDS: Record<string, string> = {
  emails: 'emails',
  phonenumbers: 'phoneNumbers',
  ims: 'ims',
  photos: 'photos',
  addresses: 'addresses',
  entitlements: 'entitlements',
  roles: 'profileRoles',
  x509certificates: 'x509Certificates',
};

/**
 * Where a SCIM filter's attribute lives in the users filter schema (the converter's resolver):
 * singular attributes are their field; `externalId` is the credential origin's external id;
 * `active` the status; `groups` the group memberships; the profile lists are collections over
 * their elements. Undefined for what cannot be filtered (password, x509 values…).
 */
export function resolveUserFilterPath(path: ScimPatchPath): ScimAttributeResolution | undefined {
  const uri = path.uri?.toLowerCase();
  if (uri !== undefined && uri !== SCIM_CORE_USER_URN.toLowerCase() && uri !== SCIM_ENTERPRISE_URN.toLowerCase()) return undefined;
  const attribute = path.attribute.toLowerCase();
  const sub = path.subAttribute?.toLowerCase();
  const key = (uri === SCIM_ENTERPRISE_URN.toLowerCase() ? `${uri}:` : '') + attribute + (sub ? `.${sub}` : '');
  if (uri !== SCIM_ENTERPRISE_URN.toLowerCase()) {
    // The credential origin's external id: the origin condition is added by rewriteUserFilter.
    if (attribute === 'externalid' && sub === undefined) return { kind: 'collection', path: ['externalIds'], element: () => ['key'] };
    if (attribute === 'active' && sub === undefined) return ['status'];
    if (attribute === 'groups') return { kind: 'collection', path: ['groups'], element: (s) => (s === undefined || s === 'value' ? ['id'] : s === 'display' ? ['name'] : undefined) };
    const list = LIST_FILTER_FIELDS[attribute];
    if (list !== undefined) {
      const attr = findAttribute(USER_ATTRIBUTES, attribute);
      return {
        kind: 'collection',
        path: [list],
        element: (s) => {
          const found = findAttribute(attr?.subAttributes, s ?? 'value');
          return found && found.type !== 'binary' ? [found.name] : undefined;
        },
      };
    }
  }
  // A complex attribute named without its sub-attribute (`name`, `manager`) is not comparable.
  const enterprise = SCIM_ENTERPRISE_URN.toLowerCase();
  // An enterprise attribute written without its URN (`employeeNumber`), as some clients do.
  const qualified = uri === undefined ? `${enterprise}:${key}` : key;
  return FILTER_PATHS.get(key) ?? FILTER_PATHS.get(qualified) ?? (qualified.endsWith(':manager') ? FILTER_PATHS.get(`${qualified}.value`) : undefined);
}

/**
 * The mapped tree as the users filter schema understands it: `externalId` confined to the
 * credential's origin, groups and managers to those `owner` provisioned (scim-filter-scope.ts), and `active` (a boolean in SCIM, the lifecycle status in
 * Roster) as `status eq 'active'`: `active eq false` is every other status, `active pr` is always true.
 */
export function rewriteUserFilter(node: FilterNode, ctx: ScimUserContext, owner: string | undefined): FilterNode {
  const mapped = scopeCollection(mapActive(node), 'externalIds', 'origin', ctx.origin);
  if (owner === undefined) return mapped;
  // A credential limited to what it provisioned sees only such groups and managers.
  return scopeManager(scopeCollection(mapped, 'groups', 'provisionedBy', owner), owner);
}

function mapActive(node: FilterNode): FilterNode {
  return mapConditions(node, (n) => {
    if (n.kind === 'present' && n.path.length === 1 && n.path[0] === 'status') return { kind: 'not', operand: { kind: 'compare', op: 'eq', path: ['id'], value: { type: 'null' } } };
    if (n.kind !== 'compare' || n.path.length !== 1 || n.path[0] !== 'status') return n;
    const wanted = n.value.type === 'boolean' ? n.value.value : n.value.type === 'string' ? booleanText(n.value.value) : undefined;
    if (wanted === undefined || (n.op !== 'eq' && n.op !== 'ne')) scimFail('scim.invalid_filter', 'active is true or false and compares with eq or ne, e.g. active eq true.');
    const isActive: FilterNode = { kind: 'compare', op: 'eq', path: ['status'], value: { type: 'string', value: 'active' } };
    return wanted === (n.op === 'eq') ? isActive : { kind: 'not', operand: isActive };
  });
}

const booleanText = (text: string): boolean | undefined => (text.toLowerCase() === 'true' ? true : text.toLowerCase() === 'false' ? false : undefined);

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
