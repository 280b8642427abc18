import { identifierKey } from '../../domain/identifier-key.js';
import type { DirectoryRecord } from '../../domain/directory.js';
import type { ExternalId } from '../../domain/user.js';
import type { FieldPath } from '../../filter/filter-ast.js';
import type { ScimPatchPath } from '../../filter/scim-filter-ast.js';
import type { ScimAttributeResolution } from '../../filter/scim-filter-converter.js';
import { isUuid } from '../../lib/ids.js';
import { SCIM_GROUP_URN } from './scim-attributes.js';
import { scimFail, scimMeta, type ScimDocument } from './scim-document.js';
import type { ScimUserContext } from './scim-user-mapping.js';

/**
 * The SCIM Group (RFC 7643 §4.2) and Roster's group: `displayName` is the name (unique per
 * tenant, compared ignoring case), `externalId` the group's external id for the credential's
 * origin, `members` its user memberships. The description and other origins' ids stay as they are.
 */

/** The group record's input a SCIM document (without members) asks for. */
export function documentToGroupInput(doc: ScimDocument, current: DirectoryRecord | null, ctx: ScimUserContext): Record<string, unknown> {
  if (typeof doc.displayName !== 'string') scimFail('scim.invalid_value', 'displayName is required.');
  const stored = (current?.externalIds as ExternalId[] | undefined) ?? [];
  const others = stored.filter((e) => identifierKey(e.origin) !== identifierKey(ctx.origin));
  return {
    name: doc.displayName,
    description: current?.description ?? null,
    externalIds: typeof doc.externalId === 'string' ? [...others, { origin: ctx.origin, key: doc.externalId }] : others,
  };
}

/** The group as a canonical document without members: what a PATCH of its own attributes starts from. */
export function groupToDocument(group: DirectoryRecord, ctx: ScimUserContext): ScimDocument {
  const doc: ScimDocument = { displayName: group.name };
  const externalId = ((group.externalIds as ExternalId[] | undefined) ?? []).find((e) => identifierKey(e.origin) === identifierKey(ctx.origin))?.key;
  if (externalId !== undefined) doc.externalId = externalId;
  return doc;
}

/**
 * The user ids of a `members` value (`[{value, display?, type?, $ref?}]`); a member that is not a
 * user id is a 400 invalidValue (Roster groups hold users only).
 */
export function memberIds(members: unknown): string[] {
  if (members === undefined) return [];
  const list = Array.isArray(members) ? members : [members];
  return list.map((member, i) => {
    const value = typeof member === 'string' ? member : member !== null && typeof member === 'object' ? (member as Record<string, unknown>).value : undefined;
    if (typeof value !== 'string' || !isUuid(value.toLowerCase())) scimFail('scim.invalid_value', `members[${i}].value must be the id of a user, not ${JSON.stringify(value ?? null)}.`);
    const type = member !== null && typeof member === 'object' ? (member as Record<string, unknown>).type : undefined;
    if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'user')) scimFail('scim.invalid_value', `members[${i}].type must be "User": Roster groups hold users.`);
    return value.toLowerCase();
  });
}

/** What a SCIM Group response shows beyond the record. */
export interface ScimGroupExtras {
  /** Omitted when the members were not loaded (excludedAttributes=members). */
  members?: { id: string; displayName: string }[];
  baseUrl: string;
}

export function presentScimGroup(group: DirectoryRecord, ctx: ScimUserContext, extras: ScimGroupExtras): ScimDocument {
  const out: ScimDocument = { schemas: [SCIM_GROUP_URN], id: group.id, ...groupToDocument(group, ctx) };
  if (extras.members && extras.members.length > 0) {
    out.members = extras.members.map((m) => ({ value: m.id, $ref: `${extras.baseUrl}/Users/${m.id}`, display: m.displayName, type: 'User' }));
  }
  out.meta = scimMeta('Group', group, extras.baseUrl);
  return out;
}

/** Where a Group filter's attribute lives in the groups filter schema (repositories/directory-query.ts). */
export function resolveGroupFilterPath(path: ScimPatchPath): ScimAttributeResolution | undefined {
  const uri = path.uri?.toLowerCase();
  if (uri !== undefined && uri !== SCIM_GROUP_URN.toLowerCase()) return undefined;
  const attribute = path.attribute.toLowerCase();
  const sub = path.subAttribute?.toLowerCase();
  if (attribute === 'externalid' && sub === undefined) return { kind: 'collection', path: ['externalIds'], element: () => ['key'] };
  if (attribute === 'members') return { kind: 'collection', path: ['members'], element: (s) => (s === undefined || s === 'value' ? ['id'] : undefined) };
  const direct: Record<string, FieldPath> = {
    id: ['id'],
    displayname: ['name'],
    'meta.created': ['createdAt'],
    'meta.lastmodified': ['updatedAt'],
  };
  return direct[attribute + (sub ? `.${sub}` : '')];
}
