/**
 * The tree of a SCIM filter (RFC 7644 §3.4.2.2) and of a PATCH path (§3.5.2), before any mapping
 * onto Roster fields. Attribute names keep the spelling the client used; SCIM names are
 * case-insensitive (RFC 7643 §2.1), so anything that looks a name up uses `scimPathKey` or
 * `normaliseScimPath`. The SCIM adapter maps this tree onto the shared FilterNode
 * (`toFilterNode` in scim-filter-converter.ts) through its attribute mapping.
 */

export type ScimCompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export const SCIM_COMPARE_OPERATORS: readonly ScimCompareOperator[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];

/**
 * A compValue: a JSON false, null, true, number or string. Dates are strings in SCIM; the
 * attribute's type decides later whether "2026-01-01T00:00:00Z" is a date-time.
 */
export type ScimValue = string | number | boolean | null;

/**
 * `[URI ":"] ATTRNAME ["." subAttr]`, e.g. `userName`, `name.givenName`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value` (the URN is
 * everything before the last ':'). Inside a value filter (`emails[type eq "work"]`) paths are
 * sub-attributes of the parent and carry neither `uri` nor `subAttribute`.
 */
export interface ScimAttributePath {
  uri?: string;
  attribute: string;
  subAttribute?: string;
}

export interface ScimLogicalNode {
  kind: 'and' | 'or';
  left: ScimFilter;
  right: ScimFilter;
}

/** `not (filter)`: RFC 7644 allows `not` only before a parenthesised filter. */
export interface ScimNotNode {
  kind: 'not';
  operand: ScimFilter;
}

/**
 * `path op value`. With `valueFilter`, the path was written `emails[type eq "work"].value`:
 * true when some element of `emails` matches the value filter and its `value` compares true.
 * `valueFilter` always comes with a `subAttribute`.
 */
export interface ScimCompareNode {
  kind: 'compare';
  path: ScimAttributePath;
  valueFilter?: ScimFilter;
  op: ScimCompareOperator;
  value: ScimValue;
}

/** `path pr`: the attribute has a value (not null, not "", not an empty list). */
export interface ScimPresentNode {
  kind: 'present';
  path: ScimAttributePath;
  valueFilter?: ScimFilter;
}

/** `emails[type eq "work"]`: some element of a multi-valued attribute matches `filter`. */
export interface ScimValuePathNode {
  kind: 'valuePath';
  /** The multi-valued attribute, never with a sub-attribute. */
  path: ScimAttributePath;
  /** Paths inside are sub-attributes of `path`: `{ attribute: 'type' }`. */
  filter: ScimFilter;
}

export type ScimFilter = ScimLogicalNode | ScimNotNode | ScimCompareNode | ScimPresentNode | ScimValuePathNode;

/**
 * A PATCH operation's target (RFC 7644 §3.5.2 `PATH = attrPath / valuePath [subAttr]`):
 * `members`, `name.givenName`, `members[value eq "2819c223"]`, `emails[type eq "work"].value`.
 */
export interface ScimPatchPath extends ScimAttributePath {
  /** The filter of a value path, selecting elements of `attribute`. */
  valueFilter?: ScimFilter;
}

/** The path with every part lower-cased, for lookups: SCIM names and schema URNs are case-insensitive. */
export function normaliseScimPath(path: ScimAttributePath): ScimAttributePath {
  const normalised: ScimAttributePath = { attribute: path.attribute.toLowerCase() };
  if (path.uri !== undefined) normalised.uri = path.uri.toLowerCase();
  if (path.subAttribute !== undefined) normalised.subAttribute = path.subAttribute.toLowerCase();
  return normalised;
}

/** One lower-case string naming the attribute, e.g. `urn:…:2.0:user:manager.value`, `name.givenname`. */
export const scimPathKey = (path: ScimAttributePath): string => formatAttributePath(path).toLowerCase();

/** The path as written in SCIM syntax (URN, attribute, sub-attribute), without any value filter. */
export function formatAttributePath(path: ScimAttributePath): string {
  const uri = path.uri !== undefined ? `${path.uri}:` : '';
  const sub = path.subAttribute !== undefined ? `.${path.subAttribute}` : '';
  return `${uri}${path.attribute}${sub}`;
}

/** A compValue in filter syntax; the parser reads it back as the same value. */
export function formatScimValue(value: ScimValue): string {
  // Written as digits, an integer beyond 2^53 is refused by the parser (it would compare
  // rounded); the exponent form of the same double is exact and accepted.
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) return value.toExponential();
  return JSON.stringify(value);
}

const PRECEDENCE: Record<ScimFilter['kind'], number> = { or: 1, and: 2, not: 3, compare: 4, present: 4, valuePath: 4 };

/**
 * Prints a tree in filter syntax with only the parentheses it needs, so that parsing the text
 * gives back the same tree (and/or associate to the left, `and` binds tighter than `or`).
 * Meant for trees from the parser, whose depth is bounded; it recurses.
 */
export function printScimFilter(node: ScimFilter): string {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const own = PRECEDENCE[node.kind];
      const left = printScimFilter(node.left);
      const right = printScimFilter(node.right);
      const wrapLeft = PRECEDENCE[node.left.kind] < own;
      // Same operator on the right must keep its parentheses, or it would re-associate leftwards.
      const wrapRight = PRECEDENCE[node.right.kind] <= own;
      return `${wrapLeft ? `(${left})` : left} ${node.kind} ${wrapRight ? `(${right})` : right}`;
    }
    case 'not':
      return `not (${printScimFilter(node.operand)})`;
    case 'compare':
      return `${printReference(node.path, node.valueFilter)} ${node.op} ${formatScimValue(node.value)}`;
    case 'present':
      return `${printReference(node.path, node.valueFilter)} pr`;
    case 'valuePath':
      return `${formatAttributePath(node.path)}[${printScimFilter(node.filter)}]`;
  }
}

/** Prints a PATCH path; parseScimPath reads it back as the same path. */
export const printScimPath = (path: ScimPatchPath): string => printReference(path, path.valueFilter);

function printReference(path: ScimAttributePath, valueFilter: ScimFilter | undefined): string {
  if (valueFilter === undefined) return formatAttributePath(path);
  const { subAttribute, ...parent } = path;
  const sub = subAttribute !== undefined ? `.${subAttribute}` : '';
  return `${formatAttributePath(parent)}[${printScimFilter(valueFilter)}]${sub}`;
}
