import type { ExternalId, Identification } from './user.js';
import type { UserStatus } from './user-lifecycle.js';
import type { TextClass } from './identifier-key.js';

/**
 * The user, described once. Every public field of a user is one entry of `USER_FIELDS`: its
 * value type, where it is stored, whether a client writes it and what an omitted value becomes,
 * whether `$filter` and `$orderby` may use it, and whether it shows in the field-level diff of
 * events. The `User` type, the request and response schemas (OpenAPI), the presenter, the
 * repository mapping, the filter and sort whitelists and the event diff all derive from it, and
 * the SCIM attribute mapping hangs from it. Add a field here (and a column in a migration) and
 * every layer picks it up; `User` fails to compile until the registry and the columns agree.
 *
 * Protocol-neutral on purpose: no TypeBox, no Kysely. The HTTP layer turns a value type into a
 * JSON Schema (src/http/schemas/user-schemas.ts), the repository into column codecs.
 */

/**
 * What a field holds, in protocol-neutral terms. Lengths count UTF-16 code units (as JSON
 * Schema `maxLength` does in Ajv).
 * - `text`: a string; `minLength` 1 for identifiers that can never be empty.
 * - `email`: an address (RFC 5321 limit of 320 characters); "" is accepted on input as "none".
 * - `uuid`: an id (RFC 9562); Roster issues UUIDv7.
 * - `status`: a lifecycle state (src/domain/user-lifecycle.ts).
 * - `timestamp`: an instant, ISO 8601 / RFC 3339 with milliseconds and `Z`.
 * - `integer`, `boolean`: as named.
 * - `identifications`, `externalIds`: lists of `{typeId, value}` / `{origin, key}`, at most `maxItems`.
 * - `attributes`: a JSON object of custom fields, at most `maxProperties` keys.
 * - `profile`: a JSON object of what standard schemas (SCIM) describe and Roster has no column
 *   for, kept as sent: name parts, emails, phoneNumbers, addresses…; at most `maxProperties` keys.
 * - `tags`: a list of distinct strings of at most `maxLength`, at most `maxItems`.
 */
export type UserValueType =
  | { kind: 'text'; maxLength: number; minLength?: number }
  | { kind: 'email'; maxLength: number }
  | { kind: 'uuid' }
  | { kind: 'boolean' }
  | { kind: 'status' }
  | { kind: 'timestamp' }
  | { kind: 'integer' }
  | { kind: 'identifications'; maxItems: number }
  | { kind: 'externalIds'; maxItems: number }
  | { kind: 'attributes'; maxProperties: number }
  | { kind: 'profile'; maxProperties: number }
  | { kind: 'tags'; maxItems: number; maxLength: number };

export type UserValueKind = UserValueType['kind'];

/** The TypeScript type of a value of each kind. */
export interface UserValueOf {
  text: string;
  email: string;
  uuid: string;
  boolean: boolean;
  status: UserStatus;
  timestamp: string;
  integer: number;
  identifications: Identification[];
  externalIds: ExternalId[];
  attributes: Record<string, unknown>;
  profile: Record<string, unknown>;
  tags: string[];
}

/** How a client writes a field. A field without it is the server's (id, timestamps, version). */
export interface UserFieldWrite {
  /**
   * What create and replace store when the field is omitted, and a merge patch when it is set
   * to null:
   * - `null`: no value (text that is empty or only spaces is stored as null too);
   * - `empty`: the empty value of its kind (false, [], {});
   * - `derived`: computed from other fields by the write rules (services/user-rules.ts):
   *   userName from email, displayName from givenName and familyName;
   * - `unchanged`: the current value stays (status; a new user starts in the initial status).
   */
  whenAbsent: 'null' | 'empty' | 'derived' | 'unchanged';
  /** Create and replace accept null as "no value" (omitting the field means the same). */
  nullOnCreate: boolean;
  /** A merge patch may send null; false means it is refused with a 400 (userName, status). */
  clearable: boolean;
}

export interface UserFieldDefinition {
  type: UserValueType;
  /** The column of the `users` table. */
  column: string;
  /**
   * A second column holding the comparison form of the value (`identifierKey`: RFC 8265
   * UsernameCaseMapped width mapping, lowercase, NFC), kept by every write: equality, uniqueness
   * (userName), `$filter` (literals mapped the same way) and `$orderby` go through it, so they
   * ignore case, width and Unicode normalization form and are served by a plain index.
   */
  lowerColumn?: string;
  /**
   * Which characters a written value may hold (domain/identifier-key.ts): `identifier` is the
   * RFC 8264 IdentifierClass RFC 8265 prescribes for usernames (no spaces, symbols, invisible,
   * control or unassigned code points). Checked by the write rules (services/user-rules.ts).
   */
  characters?: TextClass;
  /** The value may be null (stored, returned, and compared with `eq null`). */
  nullable: boolean;
  write?: UserFieldWrite;
  /** `$filter` may name it (collections compile to EXISTS, see repositories/user-query.ts). */
  filterable: boolean;
  /** `$orderby` may name it. */
  sortable: boolean;
  /** Events carry its before/after value in their field-level diff (`changes`). */
  inEventDiff: boolean;
  /**
   * The SCIM attribute the field is (RFC 7643 §4.1 core, §4.3 enterprise extension), as a path:
   * `name.givenName`, or URN-qualified for the enterprise extension. The SCIM adapter
   * (src/http/scim/scim-user-mapping.ts) derives its mapping, filters and sorting from it.
   */
  scim?: string;
  /** Documentation: goes into OpenAPI. */
  description?: string;
}

/** The URN of the SCIM enterprise user extension (RFC 7643 §4.3). */
export const SCIM_ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const enterprise = (attribute: string) => `${SCIM_ENTERPRISE_URN}:${attribute}`;

const text = (maxLength: number, description?: string) =>
  ({
    type: { kind: 'text', maxLength },
    nullable: true,
    write: { whenAbsent: 'null', nullOnCreate: true, clearable: true },
    filterable: true,
    sortable: false,
    inEventDiff: true,
    ...(description === undefined ? {} : { description }),
  }) as const;

const reference = <C extends string>(column: C, description: string) =>
  ({
    type: { kind: 'uuid' },
    column,
    nullable: true,
    write: { whenAbsent: 'null', nullOnCreate: true, clearable: true },
    filterable: true,
    sortable: false,
    inEventDiff: true,
    description,
  }) as const;

/** Collections and flags: omitted means empty, never null. */
const empty = { whenAbsent: 'empty', nullOnCreate: false, clearable: true } as const;
const serverOwned = { nullable: false, filterable: true, inEventDiff: false } as const;

/** Every public field of a user, in the order responses list them. */
export const USER_FIELDS = {
  id: { ...serverOwned, type: { kind: 'uuid' }, column: 'id', sortable: false, description: 'Issued by Roster (a UUIDv7); never changes.' },
  userName: {
    type: { kind: 'text', minLength: 1, maxLength: 256 },
    column: 'user_name',
    lowerColumn: 'user_name_lower',
    characters: 'identifier',
    nullable: false,
    write: { whenAbsent: 'derived', nullOnCreate: false, clearable: false },
    filterable: true,
    sortable: true,
    inEventDiff: true,
    scim: 'userName',
    description: 'Unique per tenant, compared ignoring case, width (ａｂｃ = abc) and Unicode normalization form (RFC 8265). Defaults to email.',
  },
  email: {
    type: { kind: 'email', maxLength: 320 },
    column: 'email',
    lowerColumn: 'email_lower',
    characters: 'identifier',
    nullable: true,
    write: { whenAbsent: 'null', nullOnCreate: true, clearable: true },
    filterable: true,
    sortable: true,
    inEventDiff: true,
  },
  givenName: { ...text(256), column: 'given_name', sortable: true, scim: 'name.givenName' },
  familyName: { ...text(256), column: 'family_name', sortable: true, scim: 'name.familyName' },
  displayName: {
    ...text(512, 'Derived from givenName and familyName when absent.'),
    column: 'display_name',
    nullable: false,
    write: { whenAbsent: 'derived', nullOnCreate: true, clearable: true },
    sortable: true,
    scim: 'displayName',
  },
  title: { ...text(256), column: 'title', sortable: true, scim: 'title' },
  department: { ...text(256), column: 'department', sortable: true, scim: enterprise('department') },
  employeeId: { ...text(128), column: 'employee_id', sortable: true, scim: enterprise('employeeNumber') },
  employmentType: { ...text(64, 'Employee, Contractor, Intern… (SCIM userType).'), column: 'employment_type', scim: 'userType' },
  costCenter: { ...text(128), column: 'cost_center', scim: enterprise('costCenter') },
  organization: { ...text(256, 'The organization the user belongs to, as a name (SCIM enterprise organization).'), column: 'organization', scim: enterprise('organization') },
  division: { ...text(256), column: 'division', scim: enterprise('division') },
  phone: { ...text(64), column: 'phone' },
  country: { ...text(64), column: 'country', sortable: true },
  locale: { ...text(35, 'Language and region for formatting, e.g. en-US (RFC 5646).'), column: 'locale', scim: 'locale' },
  preferredLanguage: { ...text(35, 'Preferred language, e.g. en-US (RFC 7231 Accept-Language syntax).'), column: 'preferred_language', scim: 'preferredLanguage' },
  timezone: { ...text(64, 'IANA time zone, e.g. Europe/Berlin.'), column: 'timezone', scim: 'timezone' },
  nickName: { ...text(256), column: 'nick_name', scim: 'nickName' },
  profileUrl: { ...text(2048, 'A URL of the user\'s online profile.'), column: 'profile_url', scim: 'profileUrl' },
  managerId: { ...reference('manager_id', "The user's manager: another user of the same tenant (no cycles)."), scim: enterprise('manager.value') },
  positionId: reference('position_id', 'A position of the same tenant.'),
  areaId: reference('area_id', 'An area (org unit) of the same tenant.'),
  preventDeprovision: {
    type: { kind: 'boolean' },
    column: 'prevent_deprovision',
    nullable: false,
    write: empty,
    filterable: true,
    sortable: false,
    inEventDiff: true,
    description: 'Protects the user from automated offboarding.',
  },
  identifications: {
    type: { kind: 'identifications', maxItems: 50 },
    column: 'identifications',
    nullable: false,
    write: empty,
    filterable: false,
    sortable: false,
    inEventDiff: true,
  },
  // Also kept in user_external_ids (uniqueness per tenant, lookup, filters); the copy on the row
  // lets every read return them without a second query.
  externalIds: {
    type: { kind: 'externalIds', maxItems: 50 },
    column: 'external_ids',
    nullable: false,
    write: empty,
    filterable: true,
    sortable: false,
    inEventDiff: true,
  },
  attributes: {
    type: { kind: 'attributes', maxProperties: 200 },
    column: 'attributes',
    nullable: false,
    write: empty,
    filterable: true,
    sortable: false,
    inEventDiff: true,
    description: 'Custom fields as a JSON object.',
  },
  profile: {
    type: { kind: 'profile', maxProperties: 50 },
    column: 'profile',
    nullable: false,
    write: empty,
    filterable: false,
    sortable: false,
    inEventDiff: true,
    description:
      'What SCIM describes and Roster has no field for, kept as sent: name (formatted, middleName, honorificPrefix, honorificSuffix), emails, phoneNumbers, ims, photos, addresses, entitlements, roles, x509Certificates. Filter emails through SCIM or `emails/any(e: e/value eq …)`.',
  },
  tags: {
    type: { kind: 'tags', maxItems: 100, maxLength: 100 },
    column: 'tags',
    nullable: false,
    write: empty,
    filterable: true,
    sortable: false,
    inEventDiff: true,
  },
  status: {
    type: { kind: 'status' },
    column: 'status',
    nullable: false,
    write: { whenAbsent: 'unchanged', nullOnCreate: false, clearable: false },
    filterable: true,
    sortable: true,
    inEventDiff: true,
  },
  provisionedBy: {
    ...serverOwned,
    type: { kind: 'text', maxLength: 64 },
    column: 'provisioned_by',
    nullable: true,
    sortable: false,
    description: 'The origin of the SCIM client that created the user (null when created otherwise); a SCIM credential with owns "own" sees only its own users.',
  },
  createdAt: { ...serverOwned, type: { kind: 'timestamp' }, column: 'created_at', sortable: true },
  updatedAt: { ...serverOwned, type: { kind: 'timestamp' }, column: 'updated_at', sortable: true },
  lastLoginAt: { ...serverOwned, type: { kind: 'timestamp' }, column: 'last_login_at', nullable: true, sortable: true },
  version: {
    ...serverOwned,
    type: { kind: 'integer' },
    column: 'version',
    filterable: false,
    sortable: false,
    description: 'Increments on every change; the ETag is W/"<version>".',
  },
} as const satisfies Record<string, UserFieldDefinition>;

export type UserFieldName = keyof typeof USER_FIELDS;
type Fields = typeof USER_FIELDS;

/** The value of each field, from its kind and nullability: what `User` is made of. */
export type UserFieldValues = {
  -readonly [K in UserFieldName]: Fields[K]['nullable'] extends true ? UserValueOf[Fields[K]['type']['kind']] | null : UserValueOf[Fields[K]['type']['kind']];
};

/** The fields a client writes. */
export type UserWritableField = { [K in UserFieldName]: Fields[K] extends { write: UserFieldWrite } ? K : never }[UserFieldName];

/** Optional free text: "" or spaces mean "no value" and are stored as null. */
export type UserOptionalTextField = {
  [K in UserFieldName]: Fields[K] extends { type: { kind: 'text' | 'email' }; write: { whenAbsent: 'null' } } ? K : never;
}[UserFieldName];

const entries = Object.entries(USER_FIELDS) as [UserFieldName, UserFieldDefinition][];
const namesWhere = <N extends UserFieldName>(test: (field: UserFieldDefinition) => boolean): readonly N[] =>
  Object.freeze(entries.filter(([, field]) => test(field)).map(([name]) => name as N));

/** Every public field name, in response order (what `$select` may name). */
export const USER_FIELD_NAMES: readonly UserFieldName[] = namesWhere(() => true);

/** Fields a client writes. Everything else (id, timestamps, version) is the server's. */
export const USER_WRITABLE_FIELDS = namesWhere<UserWritableField>((f) => f.write !== undefined);

/** Fields whose before/after values an event's `changes` carries. */
export const USER_EVENT_FIELDS = namesWhere((f) => f.inEventDiff);

/** Fields a merge patch may not set to null (the write is refused with a 400). */
export const USER_UNCLEARABLE_FIELDS = namesWhere((f) => f.write?.clearable === false);

/** Optional free-text fields: "" and spaces are cleared to null on write (HR feeds send "" for "none"). */
export const USER_OPTIONAL_TEXT_FIELDS = namesWhere<UserOptionalTextField>(
  (f) => (f.type.kind === 'text' || f.type.kind === 'email') && f.write?.whenAbsent === 'null',
);

/** Text fields whose characters are restricted on write, with their class (userName, email). */
export const USER_CHECKED_TEXT_FIELDS: readonly (readonly [UserFieldName, TextClass])[] = Object.freeze(
  entries.flatMap(([name, field]) => (field.characters === undefined ? [] : [[name, field.characters] as const])),
);
