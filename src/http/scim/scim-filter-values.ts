import type { ScimAttributePath, ScimFilter, ScimValue } from '../../filter/scim-filter-ast.js';
import { formatAttributePath, formatScimValue } from '../../filter/scim-filter-ast.js';
import { echo } from '../../filter/scim-filter-errors.js';
import { normaliseDateTime } from '../../filter/literal-validators.js';
import { isUuid } from '../../lib/ids.js';
import { findAttribute, findExtension, type ScimAttribute, type ScimResourceModel } from './scim-attributes.js';
import { scimFail } from './scim-document.js';

/**
 * Checks each comparison of a SCIM filter against the attribute's type, before it is mapped onto
 * Roster's fields, so a mistake is explained in SCIM terms (double-quoted strings, the attribute
 * as the client wrote it): text wants a "string", `active` true or false, `meta.created` a
 * date-time, an id a UUID. 400 invalidFilter. Attributes the model does not know are left to the
 * mapping, which refuses them.
 */
export function checkFilterValues(model: ScimResourceModel, filter: ScimFilter): void {
  const stack: { node: ScimFilter; parent?: ScimAttribute; parentName?: string }[] = [{ node: filter }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, parent, parentName } = item;
    switch (node.kind) {
      case 'and':
      case 'or':
        stack.push({ node: node.left, ...scope(parent, parentName) }, { node: node.right, ...scope(parent, parentName) });
        break;
      case 'not':
        stack.push({ node: node.operand, ...scope(parent, parentName) });
        break;
      case 'valuePath': {
        const attribute = attributeOf(model, node.path, true);
        if (attribute) stack.push({ node: node.filter, parent: attribute, parentName: formatAttributePath(node.path) });
        break;
      }
      case 'present':
        if (node.valueFilter) stack.push({ node: node.valueFilter, ...scope(attributeOf(model, { ...node.path, subAttribute: undefined }, true), formatAttributePath({ ...node.path, subAttribute: undefined })) });
        break;
      case 'compare': {
        if (node.valueFilter) {
          const list = { ...node.path, subAttribute: undefined };
          stack.push({ node: node.valueFilter, ...scope(attributeOf(model, list, true), formatAttributePath(list)) });
        }
        const attribute = parent ? findAttribute(parent.subAttributes, node.path.attribute) : attributeOf(model, node.path);
        const name = parent ? `${parentName}[${node.path.attribute}]` : formatAttributePath(node.path);
        if (attribute) checkValue(attribute, name, node.op, node.value);
        break;
      }
    }
  }
}

const scope = (parent: ScimAttribute | undefined, parentName: string | undefined) => (parent ? { parent, parentName: parentName as string } : {});

/** The attribute (or sub-attribute) a path names, in the core schema or an extension; undefined when unknown. */
function attributeOf(model: ScimResourceModel, path: ScimAttributePath, whole = false): ScimAttribute | undefined {
  let attributes = model.core;
  if (path.uri !== undefined && path.uri.toLowerCase() !== model.coreUrn.toLowerCase()) {
    const extension = findExtension(model, path.uri);
    if (extension === undefined) return undefined;
    attributes = model.extensions[extension] as readonly ScimAttribute[];
  }
  let attribute = findAttribute(attributes, path.attribute);
  if (!attribute && path.uri === undefined) {
    const owner = Object.values(model.extensions).find((list) => findAttribute(list, path.attribute));
    attribute = owner ? findAttribute(owner, path.attribute) : undefined;
  }
  if (!attribute) return undefined;
  if (path.subAttribute !== undefined) return findAttribute(attribute.subAttributes, path.subAttribute);
  // A complex attribute compared as a whole means its `value` (`manager eq "…"`, `emails co "…"`).
  return attribute.type === 'complex' && !whole ? (findAttribute(attribute.subAttributes, 'value') ?? attribute) : attribute;
}

function checkValue(attribute: ScimAttribute, name: string, op: string, value: ScimValue): void {
  if (value === null) return;
  const example = (sample: string) => `e.g. ${echo(name, 120)} ${op} ${sample}`;
  switch (attribute.type) {
    case 'boolean':
      if (typeof value !== 'boolean' && !(typeof value === 'string' && /^(true|false)$/i.test(value))) {
        scimFail('scim.invalid_filter', `${echo(name, 120)} is true or false: ${example('true')} (got ${echo(formatScimValue(value))}).`);
      }
      return;
    case 'dateTime':
      if (typeof value !== 'string' || normaliseDateTime(value) === undefined) {
        scimFail('scim.invalid_filter', `${echo(name, 120)} is a date-time in double quotes: ${example('"2026-01-31T09:30:00Z"')} (got ${echo(formatScimValue(value))}).`);
      }
      return;
    case 'complex':
      return;
    default:
      if (typeof value !== 'string') {
        scimFail('scim.invalid_filter', `${echo(name, 120)} is text: put the value in double quotes, ${example(JSON.stringify(String(value)))}.`);
      }
      if (attribute.idOf && (op === 'co' || op === 'sw' || op === 'ew')) {
        scimFail('scim.invalid_filter', `${echo(name, 120)} is the id of a ${attribute.idOf}: compare it whole, e.g. ${echo(name, 120)} eq "0190a0b2-8d3e-7c4f-9a1b-2c3d4e5f6a7b".`);
      }
      if (attribute.idOf && !isUuid(value.toLowerCase())) {
        scimFail('scim.invalid_filter', `${echo(name, 120)} is the id of a ${attribute.idOf}, a UUID such as "0190a0b2-8d3e-7c4f-9a1b-2c3d4e5f6a7b" (got ${echo(formatScimValue(value))}).`);
      }
  }
}
