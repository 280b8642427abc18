import type { FilterNode } from '../../filter/filter-ast.js';

/**
 * Rewrites of a mapped SCIM filter (the converter's output, where a collection test is an `any`
 * over the element variable `e` and a whole-collection `pr` is a `present`).
 */

/**
 * The tree with each condition (anything but and/or/not) replaced by `leaf` of it. `any` is a
 * condition: its predicate is not walked.
 */
export function mapConditions(node: FilterNode, leaf: (condition: FilterNode) => FilterNode): FilterNode {
  switch (node.kind) {
    case 'and':
    case 'or':
      return { ...node, left: mapConditions(node.left, leaf), right: mapConditions(node.right, leaf) };
    case 'not':
      return { kind: 'not', operand: mapConditions(node.operand, leaf) };
    default:
      return leaf(node);
  }
}

const elementIs = (field: string, value: string, variable = 'e'): FilterNode => ({ kind: 'compare', op: 'eq', path: [variable, field], value: { type: 'string', value } });
const isField = (path: string[], name: string) => path.length === 1 && path[0] === name;

/**
 * Confines a collection (`externalIds`, `groups`, a group's `members`) to the elements whose
 * `field` is `value`: the credential's origin, or what it provisioned.
 */
export function scopeCollection(node: FilterNode, collection: string, field: string, value: string): FilterNode {
  return mapConditions(node, (n) => {
    if (n.kind === 'any' && isField(n.path, collection)) return { ...n, predicate: { kind: 'and', left: elementIs(field, value, n.variable), right: n.predicate } };
    if (n.kind === 'present' && isField(n.path, collection)) return { kind: 'any', path: [collection], variable: 'e', predicate: elementIs(field, value) };
    return n;
  });
}

/**
 * A user's manager as a credential limited to its own users sees it: a test of `managerId`
 * becomes a test of the manager among the users that origin provisioned (`managerUser`, a
 * collection of at most one user in the SCIM users filter schema). `eq null` means "no manager
 * it can see".
 */
export function scopeManager(node: FilterNode, owner: string): FilterNode {
  const mine = elementIs('provisionedBy', owner);
  const visible = (predicate?: FilterNode): FilterNode => ({ kind: 'any', path: ['managerUser'], variable: 'e', predicate: predicate ? { kind: 'and', left: mine, right: predicate } : mine });
  return mapConditions(node, (n) => {
    if (n.kind === 'present' && isField(n.path, 'managerId')) return visible();
    if (n.kind === 'in' && isField(n.path, 'managerId')) return visible({ kind: 'in', path: ['e', 'id'], values: n.values });
    if (n.kind !== 'compare' || !isField(n.path, 'managerId')) return n;
    if (n.value.type === 'null') return n.op === 'eq' ? { kind: 'not', operand: visible() } : n.op === 'ne' ? visible() : n;
    return visible({ kind: 'compare', op: n.op, path: ['e', 'id'], value: n.value });
  });
}
