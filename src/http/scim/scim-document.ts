import { AppError } from '../../errors/app-error.js';
import type { ErrorCode } from '../../errors/error-codes.js';
import { echo } from '../../filter/scim-filter-errors.js';
import { findAttribute, findExtension, type ScimAttribute, type ScimResourceModel } from './scim-attributes.js';

/**
 * A SCIM resource as plain JSON in canonical form: attribute names spelled as the schema spells
 * them, values of the declared type (booleans sent as "True"/"false" read as booleans, single
 * objects sent for a multi-valued attribute read as a one-element list), nulls and empty lists
 * dropped (RFC 7643 §2.5: unassigned). Extension attributes sit under their URN.
 */
export type ScimDocument = Record<string, unknown>;

/** Most values a multi-valued attribute may hold (emails, addresses…): far beyond any real person. */
export const MAX_MULTI_VALUES = 100;
/** Longest text a SCIM string attribute may hold (the native fields have their own, shorter limits). */
const MAX_STRING = 16_384;

/** A 400 in SCIM terms (the scimType comes from the error catalogue). */
export function scimFail(code: Extract<ErrorCode, `scim.${string}`>, detail: string): never {
  throw new AppError(code, detail);
}

/** Attributes a client may send back from a GET and that are ignored on input (RFC 7644 §3.5.1). */
const IGNORED_ON_INPUT = new Set(['schemas', 'id', 'meta']);

/**
 * Reads a request body (POST, PUT, a Bulk operation's data) into a canonical document. Read-only
 * attributes are ignored, as RFC 7644 §3.5.1 says for PUT; an attribute the schema does not have
 * is a 400 invalidSyntax naming it, except under an extension URN Roster does not know (clients
 * send their own extensions; those are ignored). Values of the wrong type are 400 invalidValue.
 */
export function readDocument(model: ScimResourceModel, body: unknown): ScimDocument {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) scimFail('scim.invalid_syntax', `The body must be a ${model.name} object.`);
  const raw = body as Record<string, unknown>;
  checkSchemas(model, raw.schemas);
  const doc: ScimDocument = {};
  for (const [key, value] of Object.entries(raw)) {
    if (IGNORED_ON_INPUT.has(key.toLowerCase())) continue;
    const extension = findExtension(model, key);
    if (extension !== undefined) {
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) scimFail('scim.invalid_value', `"${extension}" must be an object of its attributes.`);
      const inner: ScimDocument = {};
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        setInput(inner, model.extensions[extension] as readonly ScimAttribute[], name, v, `${extension}:`);
      }
      if (Object.keys(inner).length > 0) doc[extension] = inner;
      continue;
    }
    if (key.startsWith('urn:')) {
      // `urn:…:enterprise:2.0:User:department` written flat, or an extension we do not serve.
      const cut = key.lastIndexOf(':');
      const ext = findExtension(model, key.slice(0, cut));
      if (ext !== undefined) {
        const inner = (doc[ext] as ScimDocument | undefined) ?? {};
        setInput(inner, model.extensions[ext] as readonly ScimAttribute[], key.slice(cut + 1), value, `${ext}:`);
        if (Object.keys(inner).length > 0) doc[ext] = inner;
      } else if (key.slice(0, cut).toLowerCase() === model.coreUrn.toLowerCase()) {
        setInput(doc, model.core, key.slice(cut + 1), value, '');
      }
      continue;
    }
    if (!findAttribute(model.core, key)) {
      // An extension attribute written without its URN (`employeeNumber`), as some clients do.
      const owner = Object.keys(model.extensions).find((urn) => findAttribute(model.extensions[urn], key));
      if (owner !== undefined) {
        const inner = (doc[owner] as ScimDocument | undefined) ?? {};
        setInput(inner, model.extensions[owner] as readonly ScimAttribute[], key, value, `${owner}:`);
        if (Object.keys(inner).length > 0) doc[owner] = inner;
        continue;
      }
    }
    setInput(doc, model.core, key, value, '');
  }
  return doc;
}

function setInput(doc: ScimDocument, attributes: readonly ScimAttribute[], name: string, value: unknown, prefix: string): void {
  const attribute = findAttribute(attributes, name);
  if (!attribute) scimFail('scim.invalid_syntax', `${model(prefix)} has no attribute "${echo(prefix + name, 120)}".`);
  if (attribute.mutability === 'readOnly') return;
  const canonical = canonicalValue(attribute, value, prefix + attribute.name, true);
  if (canonical === undefined) delete doc[attribute.name];
  else doc[attribute.name] = canonical;
}

const model = (prefix: string) => (prefix === '' ? 'The resource' : `The extension ${prefix.slice(0, -1)}`);

function checkSchemas(resource: ScimResourceModel, schemas: unknown): void {
  if (schemas === undefined) return;
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== 'string')) scimFail('scim.invalid_syntax', '"schemas" must be a list of schema URNs.');
}

/**
 * A value of `attribute` in canonical form, or undefined when it is unassigned (null, "", [] or
 * an object with nothing assigned). `path` names it in errors. With `ignoreReadOnly`, read-only
 * sub-attributes sent back from a GET are dropped instead of refused.
 */
export function canonicalValue(attribute: ScimAttribute, value: unknown, path: string, ignoreReadOnly: boolean): unknown {
  if (value === null || value === undefined) return undefined;
  if (attribute.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    const max = attribute.maxValues ?? MAX_MULTI_VALUES;
    if (list.length > max) scimFail('scim.invalid_value', `"${path}" may hold at most ${max} values.`);
    const items = list.map((item, i) => singleValue(attribute, item, `${path}[${i}]`, ignoreReadOnly)).filter((item) => item !== undefined);
    if (items.length === 0) return undefined;
    return attribute.type === 'complex' ? onePrimary(items as ScimDocument[]) : items;
  }
  if (Array.isArray(value)) scimFail('scim.invalid_value', `"${path}" takes one value, not a list.`);
  return singleValue(attribute, value, path, ignoreReadOnly);
}

function singleValue(attribute: ScimAttribute, value: unknown, path: string, ignoreReadOnly: boolean): unknown {
  if (value === null || value === undefined) return undefined;
  switch (attribute.type) {
    case 'boolean':
      return booleanValue(value, path);
    case 'complex': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        // A bare id for a manager or a member is its `value`.
        if (typeof value === 'string' && attribute.bareValue) return { value };
        scimFail('scim.invalid_value', `"${path}" must be an object with ${(attribute.subAttributes ?? []).map((s) => s.name).join(', ')}.`);
      }
      const out: ScimDocument = {};
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        const sub = findAttribute(attribute.subAttributes, name);
        if (!sub) scimFail('scim.invalid_syntax', `"${path}" has no sub-attribute "${echo(name)}".`);
        if (sub.mutability === 'readOnly' && ignoreReadOnly) continue;
        const canonical = singleValue(sub, v, `${path}.${sub.name}`, ignoreReadOnly);
        if (canonical !== undefined) out[sub.name] = canonical;
      }
      return Object.keys(out).length === 0 ? undefined : out;
    }
    default: {
      const text = value;
      if (typeof text !== 'string') scimFail('scim.invalid_value', `"${path}" must be a string, not ${describe(value)}.`);
      if (text.length > MAX_STRING) scimFail('scim.invalid_value', `"${path}" is longer than ${MAX_STRING} characters.`);
      return text.trim() === '' ? undefined : text;
    }
  }
}

/** Booleans as JSON booleans or as the strings Entra ID sends ("True", "false"). */
export function booleanValue(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return scimFail('scim.invalid_value', `"${path}" must be true or false, not ${describe(value)}.`);
}

/**
 * RFC 7643 §2.4: "primary" is true for at most one value. When a list names several, the last
 * one keeps it (what a client that appended a new primary meant); `primary: false` is dropped.
 */
export function onePrimary(items: ScimDocument[]): ScimDocument[] {
  const last = items.findLastIndex((item) => item.primary === true);
  return items.map((item, i) => {
    if (item.primary === undefined) return item;
    const { primary: _primary, ...rest } = item;
    return i === last ? { ...rest, primary: true } : rest;
  });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${echo(JSON.stringify(value))}`;
}

/**
 * `meta` of a resource (RFC 7643 §3.1): its type, times, absolute location under `baseUrl`
 * (e.g. https://host/scim/v2) and weak ETag, the native API's version.
 */
export function scimMeta(resourceType: 'User' | 'Group', record: { id: string; createdAt: string; updatedAt: string; version: number }, baseUrl: string): ScimDocument {
  return {
    resourceType,
    created: record.createdAt,
    lastModified: record.updatedAt,
    location: `${baseUrl}/${resourceType}s/${record.id}`,
    version: `W/"${record.version}"`,
  };
}
