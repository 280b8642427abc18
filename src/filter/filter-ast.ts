/**
 * The filter tree shared by every filter syntax (OData `$filter` today, SCIM `filter` later).
 * It says nothing about how the expression was written, so one compiler serves all parsers.
 */

/** How deep a filter tree may nest; the compiler refuses deeper trees, wherever they came from. */
export const MAX_FILTER_DEPTH = 64;

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type StringFunctionName = 'contains' | 'startswith' | 'endswith';

export type Literal =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'null' }
  | { type: 'datetime'; /** Always in `Date#toISOString()` form, e.g. 2024-01-01T00:00:00.000Z. */ value: string }
  | { type: 'guid'; value: string };

/**
 * A path names a field by segments: ['userName'], ['attributes', 'costCenter']. Inside an `any`
 * predicate the first segment is the lambda variable: ['e', 'origin'], or just ['t'] for an
 * element of a primitive array.
 */
export type FieldPath = string[];

export interface LogicalNode {
  kind: 'and' | 'or';
  left: FilterNode;
  right: FilterNode;
}

export interface NotNode {
  kind: 'not';
  operand: FilterNode;
}

export interface CompareNode {
  kind: 'compare';
  op: ComparisonOperator;
  path: FieldPath;
  value: Literal;
}

export interface InNode {
  kind: 'in';
  path: FieldPath;
  values: Literal[];
}

export interface FunctionNode {
  kind: 'function';
  name: StringFunctionName;
  path: FieldPath;
  value: string;
}

/** SCIM `pr`: the field has a value. */
export interface PresentNode {
  kind: 'present';
  path: FieldPath;
}

/** A lambda over a collection: true when at least one element satisfies the predicate. */
export interface AnyNode {
  kind: 'any';
  path: FieldPath;
  variable: string;
  predicate: FilterNode;
}

export type FilterNode = LogicalNode | NotNode | CompareNode | InNode | FunctionNode | PresentNode | AnyNode;

/** How a literal reads in an error message, close to how the user wrote it. */
export function describeLiteral(literal: Literal): string {
  switch (literal.type) {
    case 'string':
      return `'${literal.value.replaceAll("'", "''")}'`;
    case 'null':
      return 'null';
    default:
      return String(literal.value);
  }
}

export const formatPath = (path: readonly string[]): string => path.join('/');
