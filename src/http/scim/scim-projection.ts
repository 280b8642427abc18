import { findAttribute, findExtension, type ScimResourceModel } from './scim-attributes.js';
import { scimFail, type ScimDocument } from './scim-document.js';

/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes a response
 * returns. Names are case-insensitive, may be URN-qualified and may name sub-attributes
 * (`name.givenName`, `emails.value`, `urn:…:enterprise:2.0:User:manager`). `id` and `schemas` are
 * always returned. Attributes the resource does not have are ignored (RFC 7644 lets clients ask
 * for attributes a provider lacks).
 */
export interface ScimProjection {
  /** Keys `attr` or `attr.sub`, canonical, prefixed `<urn>:` for extensions. */
  include?: Set<string>;
  exclude?: Set<string>;
}

const MAX_NAMES = 100;

/** Parses the two parameters; `attributes` wins when both are sent. 400 invalidValue for a malformed list. */
export function parseProjection(model: ScimResourceModel, attributes: string | undefined, excluded: string | undefined): ScimProjection {
  if (attributes !== undefined && attributes.trim() !== '') return { include: names(model, attributes, 'attributes') };
  if (excluded !== undefined && excluded.trim() !== '') return { exclude: names(model, excluded, 'excludedAttributes') };
  return {};
}

function names(model: ScimResourceModel, list: string, parameter: string): Set<string> {
  const parts = list.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length > MAX_NAMES) scimFail('scim.invalid_value', `${parameter} may name at most ${MAX_NAMES} attributes.`);
  const keys = new Set<string>();
  for (const part of parts) {
    if (!/^[A-Za-z0-9:._$-]+$/.test(part)) scimFail('scim.invalid_value', `${parameter}: "${part.slice(0, 80)}" is not an attribute name.`);
    const key = canonicalKey(model, part);
    if (key !== undefined) keys.add(key);
  }
  return keys;
}

/** `urn:…:User:manager.value` → `<URN>:manager.value`; `NAME.givenname` → `name.givenName`; unknown → undefined. */
function canonicalKey(model: ScimResourceModel, text: string): string | undefined {
  let extension: string | undefined;
  let local = text;
  if (text.toLowerCase().startsWith('urn:')) {
    const whole = findExtension(model, text);
    if (whole !== undefined) return whole;
    const cut = text.lastIndexOf(':');
    const urn = text.slice(0, cut);
    local = text.slice(cut + 1);
    if (urn.toLowerCase() !== model.coreUrn.toLowerCase()) {
      extension = findExtension(model, urn);
      if (extension === undefined) return undefined;
    }
  }
  const [attributeName, subName] = local.split('.', 2) as [string, string | undefined];
  const attributes = extension ? model.extensions[extension] : model.core;
  const attribute = findAttribute(attributes, attributeName);
  if (!attribute) return undefined;
  const sub = subName === undefined ? undefined : findAttribute(attribute.subAttributes, subName);
  if (subName !== undefined && !sub) return undefined;
  return (extension ? `${extension}:` : '') + attribute.name + (sub ? `.${sub.name}` : '');
}

/** Whether the response needs `attribute` (canonical, core or `<urn>:name`): lets a route skip loading groups or members. */
export function wants(projection: ScimProjection, attribute: string): boolean {
  if (projection.include) return [...projection.include].some((k) => k === attribute || k.startsWith(`${attribute}.`));
  if (projection.exclude) return !projection.exclude.has(attribute);
  return true;
}

/** The response body with only what the projection asks for. */
export function project(model: ScimResourceModel, doc: ScimDocument, projection: ScimProjection): ScimDocument {
  if (!projection.include && !projection.exclude) return doc;
  const out: ScimDocument = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'schemas' || key === 'id') {
      out[key] = value;
      continue;
    }
    const extension = model.extensions[key] ? key : undefined;
    if (extension) {
      const inner = pick(value as ScimDocument, projection, `${extension}:`, extension);
      if (inner && Object.keys(inner).length > 0) out[key] = inner;
      continue;
    }
    const kept = pickOne(key, value, projection, '');
    if (kept !== undefined) out[key] = kept;
  }
  return out;
}

function pick(container: ScimDocument, projection: ScimProjection, prefix: string, whole: string): ScimDocument | undefined {
  if (projection.include?.has(whole)) return container;
  if (projection.exclude?.has(whole)) return undefined;
  const out: ScimDocument = {};
  for (const [key, value] of Object.entries(container)) {
    const kept = pickOne(key, value, projection, prefix);
    if (kept !== undefined) out[key] = kept;
  }
  return out;
}

function pickOne(key: string, value: unknown, projection: ScimProjection, prefix: string): unknown {
  const full = prefix + key;
  if (projection.include) {
    if (projection.include.has(full)) return value;
    const subs = [...projection.include].filter((k) => k.startsWith(`${full}.`)).map((k) => k.slice(full.length + 1));
    if (subs.length === 0) return undefined;
    return keepSubs(value, (sub) => subs.includes(sub));
  }
  if (projection.exclude?.has(full)) return undefined;
  const dropped = [...(projection.exclude ?? [])].filter((k) => k.startsWith(`${full}.`)).map((k) => k.slice(full.length + 1));
  return dropped.length === 0 ? value : keepSubs(value, (sub) => !dropped.includes(sub));
}

function keepSubs(value: unknown, keep: (sub: string) => boolean): unknown {
  const filter = (item: unknown) => (item !== null && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).filter(([k]) => keep(k))) : item);
  if (Array.isArray(value)) {
    const items = value.map(filter).filter((item) => !(item !== null && typeof item === 'object' && Object.keys(item).length === 0));
    return items.length > 0 ? items : undefined;
  }
  const one = filter(value);
  return one !== null && typeof one === 'object' && Object.keys(one).length === 0 ? undefined : one;
}
