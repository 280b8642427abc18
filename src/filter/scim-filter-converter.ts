import { MAX_FILTER_DEPTH, type ComparisonOperator, type FieldPath, type FilterNode, type Literal, type StringFunctionName } from './filter-ast.js';
import { FILTER_TREE_LIMITS } from './filter-validator.js';
import { echo, ScimFilterError } from './scim-filter-errors.js';
import { formatAttributePath, formatScimValue, type ScimAttributePath, type ScimCompareOperator, type ScimFilter, type ScimPatchPath, type ScimValue } from './scim-filter-ast.js';

/**
 * Where a SCIM attribute lives in the shared filter tree, as the SCIM adapter's attribute
 * mapping answers it:
 * - a FieldPath for a single value (`userName` → ['userName'], an enterprise attribute →
 *   ['attributes', 'costCenter']). When the reference carries a value filter
 *   (`emails[type eq "work"].value`), answering a FieldPath means the mapping accounts for the
 *   filter itself (e.g. the work email is the `email` column); for a value path without a
 *   sub-attribute (`emails[type eq "work"]`) it then reads as "has a value";
 * - a collection for a multi-valued attribute kept as a list (`members`, `externalIds`): `path`
 *   is the list field (compiled as an `any`), and `element` maps a sub-attribute (undefined when
 *   none is written, e.g. `emails co "x"`) to a path inside one element: ['origin'] for a
 *   collection field, [] for an element of a primitive array.
 */
export type ScimAttributeResolution = FieldPath | ScimCollectionResolution;

export interface ScimCollectionResolution {
  kind: 'collection';
  path: FieldPath;
  element: (subAttribute: string | undefined) => FieldPath | undefined;
}

/** Answers undefined for an attribute that cannot be filtered on. */
export type ScimAttributeResolver = (reference: ScimPatchPath) => ScimAttributeResolution | undefined;

const COMPARISONS: Partial<Record<ScimCompareOperator, ComparisonOperator>> = { eq: 'eq', ne: 'ne', gt: 'gt', ge: 'ge', lt: 'lt', le: 'le' };
const FUNCTIONS: Partial<Record<ScimCompareOperator, StringFunctionName>> = { co: 'contains', sw: 'startswith', ew: 'endswith' };
/** The lambda variable of the `any` a collection compiles to; SCIM never nests them. */
const ELEMENT = 'e';

const invalid = (message: string): never => {
  throw new ScimFilterError('invalidFilter', message);
};

/**
 * Maps a parsed SCIM filter onto the shared FilterNode through the caller's attribute mapping.
 * Unknown attributes and operator/value combinations the tree cannot express are
 * ScimFilterErrors with scimType 'invalidFilter' (RFC 7644: "the specified attribute and filter
 * comparison combination is not supported"). Type checks against the columns stay with the
 * compiler. The result is checked against the depth and size every compiled or cursor-borne
 * tree must respect.
 */
export function toFilterNode(filter: ScimFilter, resolve: ScimAttributeResolver): FilterNode {
  const node = new Converter(resolve).convert(filter, undefined, 1);
  const { depth, nodes } = measure(node);
  if (depth > MAX_FILTER_DEPTH || nodes > FILTER_TREE_LIMITS.maxNodes) {
    invalid(`The filter is too complex once its attributes are mapped (${nodes} conditions, ${depth} levels deep; the limits are ${FILTER_TREE_LIMITS.maxNodes} and ${MAX_FILTER_DEPTH}); simplify it.`);
  }
  return node;
}

interface Scope {
  collection: ScimCollectionResolution;
  /** The list as the client wrote it, for messages. */
  name: string;
}

class Converter {
  constructor(private readonly resolve: ScimAttributeResolver) {}

  /**
   * `scope` is the collection whose value filter is being converted, if any. `level` guards the
   * recursion for trees built by hand: the mapped tree is never shallower than its source.
   */
  convert(node: ScimFilter, scope: Scope | undefined, level: number): FilterNode {
    // The slack lets the exact check in toFilterNode report a tree that only mapping made too deep.
    if (level > MAX_FILTER_DEPTH + 2) invalid(`The filter nests more than ${MAX_FILTER_DEPTH} levels deep; simplify it.`);
    switch (node.kind) {
      case 'and':
      case 'or':
        return { kind: node.kind, left: this.convert(node.left, scope, level + 1), right: this.convert(node.right, scope, level + 1) };
      case 'not':
        return { kind: 'not', operand: this.convert(node.operand, scope, level + 1) };
      case 'compare':
      case 'present': {
        const leaf = (path: FieldPath): FilterNode => (node.kind === 'present' ? { kind: 'present', path } : condition(path, node.op, node.value, node.path));
        if (scope) return leaf(this.element(scope.collection, node.path.attribute, scope.name));
        const resolved = this.lookup(node.path, node.valueFilter);
        if (Array.isArray(resolved)) return leaf(resolved);
        // A whole list tested for presence: the compiler turns it into EXISTS.
        if (node.kind === 'present' && node.path.subAttribute === undefined && node.valueFilter === undefined) return { kind: 'present', path: resolved.path };
        const name = formatAttributePath({ ...node.path, subAttribute: undefined });
        const inner = leaf(this.element(resolved, node.path.subAttribute, name));
        const predicate: FilterNode = node.valueFilter ? { kind: 'and', left: this.convert(node.valueFilter, { collection: resolved, name }, level + 2), right: inner } : inner;
        return { kind: 'any', path: resolved.path, variable: ELEMENT, predicate };
      }
      case 'valuePath': {
        const resolved = this.lookup(node.path, node.filter);
        if (Array.isArray(resolved)) return { kind: 'present', path: resolved };
        const name = formatAttributePath(node.path);
        return { kind: 'any', path: resolved.path, variable: ELEMENT, predicate: this.convert(node.filter, { collection: resolved, name }, level + 1) };
      }
    }
  }

  private lookup(path: ScimAttributePath, valueFilter: ScimFilter | undefined): ScimAttributeResolution {
    const resolved = this.resolve(valueFilter ? { ...path, valueFilter } : path);
    if (resolved === undefined) return invalid(`The attribute '${echo(formatAttributePath(path), 120)}' cannot be used in a filter.`);
    return resolved;
  }

  private element(collection: ScimCollectionResolution, subAttribute: string | undefined, name: string): FieldPath {
    const relative = collection.element(subAttribute);
    if (relative === undefined) {
      return invalid(
        subAttribute === undefined
          ? `'${echo(name, 120)}' has several sub-attributes; name one, e.g. ${echo(name, 120)}.value.`
          : `'${echo(name, 120)}' has no sub-attribute '${echo(subAttribute)}' that can be used in a filter.`,
      );
    }
    return [ELEMENT, ...relative];
  }
}

function condition(path: FieldPath, op: ScimCompareOperator, value: ScimValue, written: ScimAttributePath): FilterNode {
  const comparison = COMPARISONS[op];
  if (comparison) return { kind: 'compare', op: comparison, path, value: literal(value) };
  const name = FUNCTIONS[op] as StringFunctionName;
  if (typeof value !== 'string') {
    return invalid(`'${op}' compares text, so it needs a "string" value, e.g. ${echo(formatAttributePath(written), 120)} ${op} "x" (got ${echo(formatScimValue(value))}).`);
  }
  return { kind: 'function', name, path, value };
}

function literal(value: ScimValue): Literal {
  if (value === null) return { type: 'null' };
  if (typeof value === 'string') return { type: 'string', value };
  if (typeof value === 'number') return { type: 'number', value };
  return { type: 'boolean', value };
}

/** Depth and size of a FilterNode, iteratively (the tree came from a bounded parser, but this costs nothing). */
function measure(root: FilterNode): { depth: number; nodes: number } {
  let depth = 0;
  let nodes = 0;
  const stack: { node: FilterNode; level: number }[] = [{ node: root, level: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, level } = item;
    nodes++;
    depth = Math.max(depth, level);
    if (node.kind === 'and' || node.kind === 'or') stack.push({ node: node.left, level: level + 1 }, { node: node.right, level: level + 1 });
    else if (node.kind === 'not') stack.push({ node: node.operand, level: level + 1 });
    else if (node.kind === 'any') stack.push({ node: node.predicate, level: level + 1 });
  }
  return { depth, nodes };
}
