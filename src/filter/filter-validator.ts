import type { QueryPart } from '../errors/query-error.js';
import { QueryError } from '../errors/query-error.js';
import { unstorableText } from '../domain/storable-values.js';
import { MAX_FILTER_DEPTH, type FilterNode, type Literal } from './filter-ast.js';
import { isUuidText, normaliseDateTime, SEGMENT } from './literal-validators.js';

/** Bounds for a tree that did not come from a parser; each is above what the parsers produce. */
export const FILTER_TREE_LIMITS = { maxDepth: MAX_FILTER_DEPTH, maxNodes: 256, maxInValues: 1000, maxText: 4096, maxPathSegments: 4 } as const;

const COMPARISONS: readonly string[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const FUNCTIONS: readonly string[] = ['contains', 'startswith', 'endswith'];

/**
 * Checks that an untrusted value (e.g. a filter decoded from a cursor) is a well-formed
 * FilterNode: known kinds and operators, exactly the expected properties, literals of the right
 * types in canonical form, safe path segments, bounded depth, size and list lengths. It does not
 * check field names: the compiler's whitelist does that. Throws a QueryError of `part`.
 */
export function validateFilterTree(value: unknown, part: QueryPart = 'filter'): FilterNode {
  let nodes = 0;
  const fail = (why: string): never => {
    throw new QueryError(part, `The filter is not a valid filter tree: ${why}.`);
  };

  const node = (v: unknown, depth: number): FilterNode => {
    if (depth > FILTER_TREE_LIMITS.maxDepth) fail(`it nests more than ${FILTER_TREE_LIMITS.maxDepth} levels`);
    if (++nodes > FILTER_TREE_LIMITS.maxNodes) fail(`it has more than ${FILTER_TREE_LIMITS.maxNodes} nodes`);
    const o = record(v, 'a node');
    switch (o.kind) {
      case 'and':
      case 'or':
        keys(o, ['kind', 'left', 'right']);
        return { kind: o.kind, left: node(o.left, depth + 1), right: node(o.right, depth + 1) };
      case 'not':
        keys(o, ['kind', 'operand']);
        return { kind: 'not', operand: node(o.operand, depth + 1) };
      case 'compare':
        keys(o, ['kind', 'op', 'path', 'value']);
        if (typeof o.op !== 'string' || !COMPARISONS.includes(o.op)) fail('unknown comparison operator');
        return { kind: 'compare', op: o.op as 'eq', path: path(o.path), value: literal(o.value) };
      case 'in': {
        keys(o, ['kind', 'path', 'values']);
        if (!Array.isArray(o.values) || o.values.length === 0 || o.values.length > FILTER_TREE_LIMITS.maxInValues) fail('an in-list of bad length');
        return { kind: 'in', path: path(o.path), values: (o.values as unknown[]).map(literal) };
      }
      case 'function':
        keys(o, ['kind', 'name', 'path', 'value']);
        if (typeof o.name !== 'string' || !FUNCTIONS.includes(o.name)) fail('unknown function');
        return { kind: 'function', name: o.name as 'contains', path: path(o.path), value: text(o.value) };
      case 'present':
        keys(o, ['kind', 'path']);
        return { kind: 'present', path: path(o.path) };
      case 'any':
        keys(o, ['kind', 'path', 'variable', 'predicate']);
        if (typeof o.variable !== 'string' || !SEGMENT.test(o.variable)) fail('a bad lambda variable');
        return { kind: 'any', path: path(o.path), variable: o.variable as string, predicate: node(o.predicate, depth + 1) };
      default:
        return fail('unknown node kind');
    }
  };

  const literal = (v: unknown): Literal => {
    const o = record(v, 'a value');
    switch (o.type) {
      case 'string':
        keys(o, ['type', 'value']);
        return { type: 'string', value: text(o.value) };
      case 'number':
        keys(o, ['type', 'value']);
        if (typeof o.value !== 'number' || !Number.isFinite(o.value)) fail('a bad number');
        return { type: 'number', value: o.value as number };
      case 'boolean':
        keys(o, ['type', 'value']);
        if (typeof o.value !== 'boolean') fail('a bad boolean');
        return { type: 'boolean', value: o.value as boolean };
      case 'null':
        keys(o, ['type']);
        return { type: 'null' };
      case 'datetime':
        keys(o, ['type', 'value']);
        // Only the canonical form the parsers produce, so equal filters compare equal.
        if (typeof o.value !== 'string' || normaliseDateTime(o.value) !== o.value) fail('a bad date-time');
        return { type: 'datetime', value: o.value as string };
      case 'guid':
        keys(o, ['type', 'value']);
        if (typeof o.value !== 'string' || !isUuidText(o.value)) fail('a bad id');
        return { type: 'guid', value: o.value as string };
      default:
        return fail('unknown value type');
    }
  };

  const path = (v: unknown): string[] => {
    if (!Array.isArray(v) || v.length === 0 || v.length > FILTER_TREE_LIMITS.maxPathSegments) fail('a bad field path');
    return (v as unknown[]).map((segment) => (typeof segment === 'string' && SEGMENT.test(segment) ? segment : fail('a bad field name')));
  };

  // A decoded cursor never passed the HTTP edge's text check: a NUL would fail only on PostgreSQL.
  const text = (v: unknown): string => (typeof v === 'string' && v.length <= FILTER_TREE_LIMITS.maxText && !unstorableText(v) ? v : fail('a bad text value'));

  const record = (v: unknown, what: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(`${what} that is not an object`);

  const keys = (o: Record<string, unknown>, allowed: readonly string[]): void => {
    const present = Object.keys(o);
    if (present.length !== allowed.length || !present.every((k) => allowed.includes(k))) fail(`unexpected properties on a '${String(o.kind ?? o.type)}'`);
  };

  return node(value, 0);
}
