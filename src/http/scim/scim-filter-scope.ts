import type { FilterNode, Literal } from '../../filter/filter-ast.js';

/**
 * Rewrites of a mapped SCIM filter that confine it to what the credential may see: a collection
 * (`externalIds`, `groups`, a group's `members`, a user's manager) is searched only among the
 * elements whose `field` is `value` (the credential's origin, or what it provisioned). Applied to
 * the converter's output, where a collection test is an `any` over the element variable `e` and a
 * whole-collection `pr` is a `present`.
 */
export function scopeCollection(node: FilterNode, collection: string, field: string, value: string): FilterNode {
  const only: FilterNode = { kind: 'compare', op: 'eq', path: ['e', field], value: { type: 'string', value } };
  const walk = (n: FilterNode): FilterNode => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return { ...n, left: walk(n.left), right: walk(n.right) };
      case 'not':
        return { kind: 'not', operand: walk(n.operand) };
      case 'any':
        return n.path.length === 1 && n.path[0] === collection ? { ...n, predicate: { kind: 'and', left: only, right: rename(n.predicate, n.variable) } } : n;
      case 'present':
        return n.path.length === 1 && n.path[0] === collection ? { kind: 'any', path: [collection], variable: 'e', predicate: only } : n;
      default:
        return n;
    }
  };
  return walk(node);
}

/** The converter always names the element `e`; a hand-built tree may not, so paths follow it. */
function rename(node: FilterNode, variable: string): FilterNode {
  if (variable === 'e') return node;
  const path = (p: string[]) => (p[0] === variable ? ['e', ...p.slice(1)] : p);
  switch (node.kind) {
    case 'and':
    case 'or':
      return { ...node, left: rename(node.left, variable), right: rename(node.right, variable) };
    case 'not':
      return { kind: 'not', operand: rename(node.operand, variable) };
    case 'any':
      return node;
    default:
      return { ...node, path: path(node.path) };
  }
}

/**
 * A user's manager as a credential limited to its own users sees it: a test of `managerId`
 * becomes a test of the manager among the users that origin provisioned (`managerUser`, a
 * collection of at most one user in the SCIM users filter schema). `eq null` means "no manager
 * it can see".
 */
export function scopeManager(node: FilterNode, owner: string): FilterNode {
  const mine: FilterNode = { kind: 'compare', op: 'eq', path: ['e', 'provisionedBy'], value: { type: 'string', value: owner } };
  const visible = (predicate?: FilterNode): FilterNode => ({ kind: 'any', path: ['managerUser'], variable: 'e', predicate: predicate ? { kind: 'and', left: mine, right: predicate } : mine });
  const walk = (n: FilterNode): FilterNode => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return { ...n, left: walk(n.left), right: walk(n.right) };
      case 'not':
        return { kind: 'not', operand: walk(n.operand) };
      case 'present':
        return isManager(n.path) ? visible() : n;
      case 'compare': {
        if (!isManager(n.path)) return n;
        if (n.value.type === 'null') return n.op === 'eq' ? { kind: 'not', operand: visible() } : n.op === 'ne' ? visible() : n;
        return visible({ kind: 'compare', op: n.op, path: ['e', 'id'], value: n.value as Literal });
      }
      case 'in':
        return isManager(n.path) ? visible({ kind: 'in', path: ['e', 'id'], values: n.values }) : n;
      default:
        return n;
    }
  };
  return walk(node);
}

const isManager = (path: string[]) => path.length === 1 && path[0] === 'managerId';
