import type { ScimFilter, ScimPatchPath, ScimValue } from '../../filter/scim-filter-ast.js';
import { formatAttributePath, printScimPath } from '../../filter/scim-filter-ast.js';
import { ScimFilterError, echo } from '../../filter/scim-filter-errors.js';
import { parseScimPath } from '../../filter/scim-path-parser.js';
import { findAttribute, findExtension, type ScimAttribute, type ScimResourceModel } from './scim-attributes.js';
import { booleanValue, canonicalValue, onePrimary, scimFail, type ScimDocument } from './scim-document.js';

/**
 * SCIM PATCH (RFC 7644 §3.5.2) on a canonical document: add, remove and replace, with and
 * without a path, value filters and sub-attributes, applied in order to a copy, so a request
 * applies whole or not at all (the caller writes the result in one command). What Entra ID and
 * Okta send beyond the RFC's letter is accepted: `op` in any case, booleans as strings, a
 * path-less value whose keys are dotted or URN-qualified paths, `add` through a value filter that
 * matches nothing (creates the element the filter describes), `remove` of a multi-valued
 * attribute with a `value` list (removes those values).
 */

export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Most operations one PATCH may carry. */
export const MAX_PATCH_OPERATIONS = 1000;

export type ScimPatchOpName = 'add' | 'remove' | 'replace';

export interface ScimPatchOperation {
  op: ScimPatchOpName;
  path?: ScimPatchPath;
  value?: unknown;
}

/** Reads a PatchOp request body. 400 invalidSyntax for its shape, invalidPath for a path. */
export function readPatchRequest(body: unknown): ScimPatchOperation[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) scimFail('scim.invalid_syntax', 'The body must be a PatchOp object with "Operations".');
  const raw = body as Record<string, unknown>;
  const key = Object.keys(raw).find((k) => k.toLowerCase() === 'operations');
  const operations = key === undefined ? undefined : raw[key];
  if (!Array.isArray(operations) || operations.length === 0) scimFail('scim.invalid_syntax', '"Operations" must be a non-empty list of operations.');
  if (operations.length > MAX_PATCH_OPERATIONS) scimFail('scim.invalid_syntax', `At most ${MAX_PATCH_OPERATIONS} operations per PATCH.`);
  return operations.map((operation, i) => readOperation(operation, i));
}

function readOperation(raw: unknown, index: number): ScimPatchOperation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) scimFail('scim.invalid_syntax', `Operations[${index}] must be an object with op, path and value.`);
  const fields = Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  const op = typeof fields.op === 'string' ? fields.op.toLowerCase() : undefined;
  if (op !== 'add' && op !== 'remove' && op !== 'replace') {
    scimFail('scim.invalid_syntax', `Operations[${index}].op must be add, remove or replace, not ${echo(JSON.stringify(fields.op ?? null))}.`);
  }
  const operation: ScimPatchOperation = { op };
  if (fields.path !== undefined && fields.path !== null && fields.path !== '') {
    if (typeof fields.path !== 'string') scimFail('scim.invalid_path', `Operations[${index}].path must be a string.`);
    operation.path = parsePath(fields.path);
  }
  if (fields.value !== undefined) operation.value = fields.value;
  if (op !== 'remove' && operation.value === undefined) scimFail('scim.invalid_syntax', `Operations[${index}] (${op}) needs a value.`);
  if (op === 'remove' && operation.path === undefined) scimFail('scim.no_target', `Operations[${index}]: remove needs a path naming what to remove.`);
  return operation;
}

function parsePath(text: string): ScimPatchPath {
  try {
    return parseScimPath(text);
  } catch (error) {
    if (error instanceof ScimFilterError) scimFail('scim.invalid_path', error.message);
    throw error;
  }
}

/** Where an operation lands: a container (the core or an extension object) and an attribute in it. */
interface Target {
  /** null: the core; otherwise the extension URN. */
  extension: string | null;
  attribute: ScimAttribute;
  sub?: ScimAttribute;
  filter?: ScimFilter;
}

/** Applies `operations` in order to a copy of `doc`. Errors: 400 invalidPath, noTarget, mutability, invalidValue. */
export function applyPatch(model: ScimResourceModel, doc: ScimDocument, operations: readonly ScimPatchOperation[], resourceId?: string): ScimDocument {
  const result = structuredClone(doc);
  for (const operation of operations) {
    if (operation.path === undefined) applyPathless(model, result, operation, resourceId);
    else applyAt(model, result, operation.op, resolveTarget(model, operation.path), operation.value);
  }
  return result;
}

/** add/replace without a path: the value's keys are attributes (plain, dotted or URN-qualified) or extension URNs. */
function applyPathless(model: ScimResourceModel, doc: ScimDocument, operation: ScimPatchOperation, resourceId: string | undefined): void {
  const value = operation.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) scimFail('scim.invalid_value', `${operation.op} without a path needs an object of attributes as its value.`);
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (key.toLowerCase() === 'schemas') continue;
    // Okta renames a group with {"op":"replace","value":{"id":"<its id>","displayName":"…"}}: its own id changes nothing.
    if (key.toLowerCase() === 'id' && resourceId !== undefined && typeof inner === 'string' && inner.toLowerCase() === resourceId.toLowerCase()) continue;
    const extension = findExtension(model, key);
    if (extension !== undefined) {
      if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) scimFail('scim.invalid_value', `"${extension}" must be an object of its attributes.`);
      for (const [name, v] of Object.entries(inner as Record<string, unknown>)) {
        applyAt(model, doc, operation.op, resolveTarget(model, { ...parsePath(name), uri: extension }), v);
      }
      continue;
    }
    applyAt(model, doc, operation.op, resolveTarget(model, parsePath(key)), inner);
  }
}

function resolveTarget(model: ScimResourceModel, path: ScimPatchPath): Target {
  let extension: string | null = null;
  let attributes = model.core;
  if (path.uri !== undefined) {
    if (path.uri.toLowerCase() !== model.coreUrn.toLowerCase()) {
      const found = findExtension(model, path.uri);
      if (found === undefined) {
        const whole = findExtension(model, `${path.uri}:${path.attribute}`);
        if (whole !== undefined) scimFail('scim.invalid_path', `Name an attribute of ${whole} in the path (e.g. ${whole}:department), or send the extension as a path-less value.`);
        scimFail('scim.invalid_path', `Roster's ${model.name} has no schema ${echo(path.uri, 120)}.`);
      }
      extension = found;
      attributes = model.extensions[found] as readonly ScimAttribute[];
    }
  }
  let attribute = findAttribute(attributes, path.attribute);
  if (!attribute && path.uri === undefined) {
    // An extension attribute written without its URN (`manager`, `employeeNumber`), as some clients do.
    const owner = Object.keys(model.extensions).find((urn) => findAttribute(model.extensions[urn], path.attribute));
    if (owner !== undefined) {
      extension = owner;
      attribute = findAttribute(model.extensions[owner], path.attribute);
    }
  }
  if (!attribute) scimFail('scim.invalid_path', `${model.name} has no attribute "${echo(formatAttributePath(path), 120)}".`);
  let sub: ScimAttribute | undefined;
  if (path.subAttribute !== undefined) {
    sub = findAttribute(attribute.subAttributes, path.subAttribute);
    if (!sub) scimFail('scim.invalid_path', `"${attribute.name}" has no sub-attribute "${echo(path.subAttribute)}".`);
  }
  if (path.valueFilter !== undefined && !(attribute.multiValued && attribute.type === 'complex')) {
    scimFail('scim.invalid_path', `A value filter applies to a multi-valued attribute; "${attribute.name}" is not one.`);
  }
  const readOnly = attribute.mutability === 'readOnly' || sub?.mutability === 'readOnly';
  if (readOnly) scimFail('scim.mutability', `"${echo(printScimPath(path), 120)}" is read-only.`);
  return { extension, attribute, ...(sub ? { sub } : {}), ...(path.valueFilter ? { filter: path.valueFilter } : {}) };
}

function containerOf(doc: ScimDocument, target: Target, create: boolean): ScimDocument | undefined {
  if (target.extension === null) return doc;
  const existing = doc[target.extension];
  if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) return existing as ScimDocument;
  if (!create) return undefined;
  const fresh: ScimDocument = {};
  doc[target.extension] = fresh;
  return fresh;
}

function applyAt(model: ScimResourceModel, doc: ScimDocument, op: ScimPatchOpName, target: Target, value: unknown): void {
  const container = containerOf(doc, target, op !== 'remove');
  const name = target.attribute.name;
  const where = (target.extension ? `${target.extension}:` : '') + name;
  if (op === 'remove') {
    if (container) removeAt(container, target, value, where);
  } else if (target.attribute.multiValued) {
    setMulti(container as ScimDocument, op, target, value, where);
  } else if (target.sub) {
    const current = objectAt(container as ScimDocument, name);
    setOrDelete(current, target.sub.name, canonicalValue(target.sub, value, `${where}.${target.sub.name}`, false));
    setOrDelete(container as ScimDocument, name, Object.keys(current).length > 0 ? current : undefined);
  } else if (target.attribute.type === 'complex') {
    // RFC 7644 §3.5.2.1/3: sub-attributes sent replace, the others stay. A bare id for manager is its value.
    const incoming = canonicalValue(target.attribute, value, where, false) as ScimDocument | undefined;
    const merged = { ...objectAt(container as ScimDocument, name), ...(incoming ?? {}) };
    if (incoming === undefined && op === 'replace') setOrDelete(container as ScimDocument, name, undefined);
    else setOrDelete(container as ScimDocument, name, Object.keys(merged).length > 0 ? merged : undefined);
  } else {
    setOrDelete(container as ScimDocument, name, canonicalValue(target.attribute, value, where, false));
  }
  if (target.extension && container && Object.keys(container).length === 0) delete doc[target.extension];
  void model;
}

function setMulti(container: ScimDocument, op: ScimPatchOpName, target: Target, value: unknown, where: string): void {
  const name = target.attribute.name;
  const current = listAt(container, name);
  if (target.filter === undefined) {
    if (target.sub) scimFail('scim.invalid_path', `Name the values of "${where}" with a filter, e.g. ${name}[type eq "work"].${target.sub.name}.`);
    const incoming = (canonicalValue(target.attribute, value, where, false) as ScimDocument[] | undefined) ?? [];
    if (op === 'replace') return setList(container, name, incoming);
    // add: values already present are not repeated.
    const fresh = incoming.filter((item) => !current.some((existing) => sameValue(existing, item)));
    return setList(container, name, demoteFor(current, fresh).concat(fresh));
  }
  const matched = current.map((item) => matches(target.attribute, item, target.filter as ScimFilter));
  if (!matched.some(Boolean)) {
    // Entra ID adds `emails[type eq "work"].value` to a user without a work email: create it.
    const seed = op === 'add' ? elementFromFilter(target.filter) : undefined;
    if (!seed) scimFail('scim.no_target', `No value of "${where}" matches the filter ${echo(printScimPath({ attribute: name, valueFilter: target.filter }), 120)}.`);
    const element = target.sub ? { ...seed, [target.sub.name]: value } : { ...seed, ...(isObject(value) ? value : {}) };
    const canonical = canonicalValue({ ...target.attribute, multiValued: false }, element, where, false) as ScimDocument | undefined;
    if (canonical) setList(container, name, demoteFor(current, [canonical]).concat([canonical]));
    return;
  }
  const next = current.map((item, i) => {
    if (!matched[i]) return item;
    if (target.sub) {
      const updated = { ...item };
      setOrDelete(updated, target.sub.name, canonicalValue(target.sub, value, `${where}.${target.sub.name}`, false));
      return updated;
    }
    const incoming = (canonicalValue({ ...target.attribute, multiValued: false }, value, where, false) as ScimDocument | undefined) ?? {};
    return op === 'add' ? { ...item, ...incoming } : incoming;
  });
  setList(container, name, next.filter((item) => Object.keys(item).length > 0));
}

function removeAt(container: ScimDocument, target: Target, value: unknown, where: string): void {
  const name = target.attribute.name;
  if (target.attribute.required && !target.sub && target.filter === undefined) scimFail('scim.mutability', `"${where}" is required and cannot be removed.`);
  if (!target.attribute.multiValued) {
    if (!target.sub) return setOrDelete(container, name, undefined);
    const current = objectAt(container, name);
    delete current[target.sub.name];
    return setOrDelete(container, name, Object.keys(current).length > 0 ? current : undefined);
  }
  const current = listAt(container, name);
  if (target.filter === undefined) {
    if (target.sub) return setList(container, name, current.map(({ [(target.sub as ScimAttribute).name]: _gone, ...rest }) => rest));
    if (value === undefined || value === null) return setList(container, name, []);
    // `{"op":"remove","path":"members","value":[{"value":"id"}]}`: remove those values (Entra ID).
    const doomed = (canonicalValue(target.attribute, value, where, false) as ScimDocument[] | undefined) ?? [];
    return setList(container, name, current.filter((item) => !doomed.some((d) => sameValue(item, d))));
  }
  const next = current.flatMap((item) => {
    if (!matches(target.attribute, item, target.filter as ScimFilter)) return [item];
    if (!target.sub) return [];
    const { [(target.sub as ScimAttribute).name]: _gone, ...rest } = item;
    return Object.keys(rest).length > 0 ? [rest] : [];
  });
  setList(container, name, next);
}

/** When an added value is primary, the others stop being so (RFC 7644 §3.5.2: primary stays unique). */
function demoteFor(current: ScimDocument[], added: ScimDocument[]): ScimDocument[] {
  if (!added.some((item) => item.primary === true)) return current;
  return current.map(({ primary: _primary, ...rest }) => rest);
}

function setList(container: ScimDocument, name: string, items: ScimDocument[]): void {
  setOrDelete(container, name, items.length > 0 ? onePrimary(items) : undefined);
}

function listAt(container: ScimDocument, name: string): ScimDocument[] {
  const value = container[name];
  return Array.isArray(value) ? (value.filter(isObject) as ScimDocument[]) : [];
}

function objectAt(container: ScimDocument, name: string): ScimDocument {
  const value = container[name];
  return isObject(value) ? { ...value } : {};
}

function setOrDelete(container: ScimDocument, name: string, value: unknown): void {
  if (value === undefined) delete container[name];
  else container[name] = value;
}

/** Two values of a multi-valued attribute are the same when their `value`s are (ignoring case unless caseExact). */
function sameValue(a: ScimDocument, b: ScimDocument): boolean {
  if (a.value === undefined && b.value === undefined) return JSON.stringify(a) === JSON.stringify(b);
  return typeof a.value === 'string' && typeof b.value === 'string' ? a.value.toLowerCase() === b.value.toLowerCase() : a.value === b.value;
}

/**
 * The element a filter of `attr eq value` conditions joined by `and` describes
 * (`type eq "work"` → {type: "work"}), or undefined for any other filter.
 */
function elementFromFilter(filter: ScimFilter): ScimDocument | undefined {
  if (filter.kind === 'and') {
    const left = elementFromFilter(filter.left);
    const right = elementFromFilter(filter.right);
    return left && right ? { ...left, ...right } : undefined;
  }
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.subAttribute === undefined && filter.valueFilter === undefined && filter.value !== null) {
    return { [filter.path.attribute]: filter.value };
  }
  return undefined;
}

/** Whether one element of a multi-valued attribute satisfies a value filter (evaluated in memory). */
export function matches(attribute: ScimAttribute, item: ScimDocument, filter: ScimFilter): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(attribute, item, filter.left) && matches(attribute, item, filter.right);
    case 'or':
      return matches(attribute, item, filter.left) || matches(attribute, item, filter.right);
    case 'not':
      return !matches(attribute, item, filter.operand);
    case 'valuePath':
      scimFail('scim.invalid_path', 'A value filter cannot contain another value filter.');
    // falls through (scimFail never returns)
    case 'present':
    case 'compare': {
      const sub = findAttribute(attribute.subAttributes, filter.path.attribute);
      if (!sub) scimFail('scim.invalid_path', `"${attribute.name}" has no sub-attribute "${echo(filter.path.attribute)}".`);
      const actual = item[sub.name];
      if (filter.kind === 'present') return actual !== undefined && actual !== null && actual !== '';
      return compare(sub, actual, filter.op, filter.value);
    }
  }
}

function compare(sub: ScimAttribute, actual: unknown, op: string, expected: ScimValue): boolean {
  if (sub.type === 'boolean') {
    const want = expected === null ? null : booleanValue(expected, sub.name);
    const have = actual === undefined ? null : actual;
    return op === 'eq' ? have === want : op === 'ne' ? have !== want : false;
  }
  if (expected === null) return op === 'eq' ? actual === undefined : op === 'ne' ? actual !== undefined : false;
  if (typeof actual !== 'string') return op === 'ne';
  const fold = (text: string) => (sub.caseExact ? text : text.toLowerCase());
  const a = fold(actual);
  const b = fold(String(expected));
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
