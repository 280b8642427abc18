import fc from 'fast-check';
import { unstorableText } from '../../../src/domain/storable-values.js';
import type { ScimAttributePath, ScimCompareOperator, ScimFilter, ScimPatchPath, ScimValue } from '../../../src/filter/scim-filter-ast.js';

/** fast-check generators of SCIM filter trees and PATCH paths in the shape the parsers produce. */

export const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

// Names include the keywords on purpose: the grammar tells them apart by position.
const attrName = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/) },
  { weight: 1, arbitrary: fc.constantFrom('not', 'and', 'or', 'pr', 'eq', 'true', 'null', 'NOT') },
);
const subName = fc.oneof({ weight: 5, arbitrary: attrName }, { weight: 1, arbitrary: fc.constant('$ref') });
const uri = fc.option(fc.oneof(fc.constantFrom(CORE, ENTERPRISE, 'urn:okta:custom:1.0:user'), fc.stringMatching(/^urn:[a-z0-9][a-z0-9-]{0,5}:[A-Za-z0-9._:-]{1,12}$/)), { nil: undefined });
const scimValue: fc.Arbitrary<ScimValue> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => unstorableText(s) === undefined),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
  fc.boolean(),
  fc.constant(null),
);
const op = fc.constantFrom<ScimCompareOperator>('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le');

function withOptional<T extends object>(base: T, extra: Record<string, unknown>): T {
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) result[key] = value;
  return result as T;
}

/** Random trees in the shape the parser produces; `inner` builds the inside of a value filter. */
export function trees(inner: boolean): fc.Arbitrary<ScimFilter> {
  const fullPath = fc.record({ uri, attribute: attrName, subAttribute: fc.option(subName, { nil: undefined }) }).map((p) => withOptional<ScimAttributePath>({ attribute: p.attribute }, { uri: p.uri, subAttribute: p.subAttribute }));
  const plainPath = (inner ? subName : attrName).map((attribute): ScimAttributePath => ({ attribute }));
  const leafPath = inner ? plainPath : fullPath;
  const valueFilter = inner ? fc.constant(undefined) : fc.option(trees(true), { nil: undefined, freq: 4 });
  const compare = fc.record({ path: leafPath, op, value: scimValue, valueFilter, sub: subName }).map(({ path, op, value, valueFilter, sub }): ScimFilter =>
    valueFilter === undefined ? { kind: 'compare', path, op, value } : { kind: 'compare', path: { ...withOptional({ attribute: path.attribute }, { uri: path.uri }), subAttribute: sub }, valueFilter, op, value },
  );
  const present = fc.record({ path: leafPath, valueFilter, sub: subName }).map(({ path, valueFilter, sub }): ScimFilter =>
    valueFilter === undefined ? { kind: 'present', path } : { kind: 'present', path: { ...withOptional({ attribute: path.attribute }, { uri: path.uri }), subAttribute: sub }, valueFilter },
  );
  const leaves: fc.Arbitrary<ScimFilter>[] = [compare, present];
  if (!inner) {
    leaves.push(
      fc.record({ uri, attribute: attrName, filter: trees(true) }).map(({ uri, attribute, filter }): ScimFilter => ({ kind: 'valuePath', path: withOptional({ attribute }, { uri }), filter })),
    );
  }
  const { tree } = fc.letrec<{ tree: ScimFilter }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true, maxDepth: inner ? 2 : 4 },
      ...leaves,
      fc.record({ kind: fc.constantFrom<'and' | 'or'>('and', 'or'), left: tie('tree'), right: tie('tree') }),
      fc.record({ kind: fc.constant<'not'>('not'), operand: tie('tree') }),
    ),
  }));
  return tree;
}

export function countNodes(node: ScimFilter): number {
  switch (node.kind) {
    case 'and':
    case 'or':
      return 1 + countNodes(node.left) + countNodes(node.right);
    case 'not':
      return 1 + countNodes(node.operand);
    case 'valuePath':
      return 1 + countNodes(node.filter);
    default:
      return 1 + (node.valueFilter ? countNodes(node.valueFilter) : 0);
  }
}

/** Whole filters, as parseScimFilter returns them. */
export const scimFilters = trees(false);

/** PATCH paths, as parseScimPath returns them. */
export const scimPatchPaths: fc.Arbitrary<ScimPatchPath> = fc
  .record({ uri, attribute: attrName, subAttribute: fc.option(subName, { nil: undefined }), valueFilter: fc.option(trees(true), { nil: undefined }) })
  .map(({ uri, attribute, subAttribute, valueFilter }) => withOptional<ScimPatchPath>({ attribute }, { uri, subAttribute, valueFilter }));
