import { AppError, type FieldError } from '../errors/app-error.js';
import type { ATTRIBUTE_TYPES, DirectoryRecord } from '../domain/directory.js';
import type { FieldType, JsonKeyType } from '../filter/filter-schema.js';
import { normaliseDateTime, normaliseDateValue } from '../filter/literal-validators.js';

/**
 * The rules for `user.attributes` once a tenant has attribute definitions. Pure functions: the
 * service loads the definitions (in the write's own transaction) and calls these.
 */
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export interface AttributeDefinition {
  name: string;
  type: AttributeType;
  required: boolean;
  enumValues: readonly string[];
  multiValued: boolean;
  indexed: boolean;
}

/** The SQL-side type an attribute filters and indexes as: dates and enums compare as text. */
export type AttributeFilterType = Extract<FieldType, 'string' | 'number' | 'boolean'>;

/** How much of the rule set a write has to satisfy. */
export interface AttributeCheck {
  /** The stored attributes before this write (undefined on create). Unchanged keys are not re-checked. */
  previous?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Create and replace: every required attribute must be present. A merge patch only may not
   * remove a required attribute the user had (a user stored before the definition existed can
   * still be patched in other ways).
   */
  requireAll: boolean;
}

export function toAttributeDefinition(record: DirectoryRecord): AttributeDefinition {
  return {
    name: String(record.name),
    type: record.type as AttributeType,
    required: record.required === true,
    enumValues: (record.enumValues as string[] | undefined) ?? [],
    multiValued: record.multiValued === true,
    indexed: record.indexed === true,
  };
}

export function attributeFilterType(type: AttributeType): AttributeFilterType {
  if (type === 'number') return 'number';
  if (type === 'boolean') return 'boolean';
  return 'string';
}

/**
 * The declared filter type of each attribute, for `attributes/<name>` in `$filter`: dates
 * compare as text after their literals are normalised like stored values (normaliseDateValue),
 * and multi-valued attributes are filtered through any().
 */
export function attributeFilterTypes(definitions: readonly AttributeDefinition[]): Map<string, JsonKeyType> {
  return new Map(definitions.map((d) => [d.name, { type: d.type === 'date' ? 'date' : attributeFilterType(d.type), multiValued: d.multiValued }]));
}

/**
 * The attributes as they are stored: date-time values of `date` attributes (multi-valued ones
 * too) in UTC `toISOString()` form, so one instant has one text and text comparison orders
 * instants; date-only values stay as written. Only keys whose value differs from `previous` are
 * touched, like the checks, and only values the checks accept (the others are refused anyway).
 * Returns the same object when nothing changes.
 */
export function normaliseAttributes(
  attributes: Readonly<Record<string, unknown>>,
  definitions: readonly AttributeDefinition[],
  previous?: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  let result: Record<string, unknown> | undefined;
  for (const definition of definitions) {
    if (definition.type !== 'date' || !Object.hasOwn(attributes, definition.name)) continue;
    const value = attributes[definition.name];
    if (previous && Object.hasOwn(previous, definition.name) && sameJson(previous[definition.name], value)) continue;
    const normalised = definition.multiValued ? (Array.isArray(value) ? value.map(normaliseDate) : value) : normaliseDate(value);
    if (sameJson(normalised, value)) continue;
    result ??= { ...attributes };
    result[definition.name] = normalised;
  }
  return result ?? attributes;
}

const normaliseDate = (value: unknown): unknown => (typeof value === 'string' && isAttributeDate(value) ? normaliseDateValue(value) : value);

/**
 * Whether any value could be a date-time that normaliseAttributes would rewrite: a cheap test
 * that spares loading the definitions on writes that hold none.
 */
export function mayHoldDateTimes(attributes: Readonly<Record<string, unknown>>): boolean {
  const candidate = (v: unknown) => typeof v === 'string' && FULL_DATE_TIME.test(v) && normaliseDateTime(v) !== v;
  return Object.values(attributes).some((v) => candidate(v) || (Array.isArray(v) && v.some(candidate)));
}

/** The expression index an attribute wants, or undefined: none unless indexed, none for lists (eq never matches an array). */
export function attributeIndexTarget(definition: AttributeDefinition | undefined): { name: string; type: AttributeFilterType } | undefined {
  if (!definition || !definition.indexed || definition.multiValued) return undefined;
  return { name: definition.name, type: attributeFilterType(definition.type) };
}

/**
 * Throws 422 user.attribute_invalid listing every problem, each naming the attribute (and the
 * expected type). Without definitions attributes are free-form and nothing is checked.
 */
export function checkAttributes(attributes: Readonly<Record<string, unknown>>, definitions: readonly AttributeDefinition[], check: AttributeCheck): void {
  const errors = attributeErrors(attributes, definitions, check);
  if (errors.length === 0) return;
  throw new AppError('user.attribute_invalid', errors.map((e) => e.message).join(' '), errors);
}

export function attributeErrors(attributes: Readonly<Record<string, unknown>>, definitions: readonly AttributeDefinition[], check: AttributeCheck): FieldError[] {
  if (definitions.length === 0) return [];
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const errors: FieldError[] = [];
  const fail = (name: string, message: string) => errors.push({ field: `/body/attributes/${pointerSegment(name)}`, message });

  for (const [name, value] of Object.entries(attributes)) {
    if (check.previous && Object.hasOwn(check.previous, name) && sameJson(check.previous[name], value)) continue;
    const definition = byName.get(name);
    if (!definition) {
      fail(name, `Attribute ${JSON.stringify(name)} is not defined for this tenant (defined: ${[...byName.keys()].sort().join(', ')}).`);
      continue;
    }
    if (value === null) continue; // "no value"; whether that is allowed is the required check's business
    const problem = valueProblem(definition, value);
    if (problem) fail(name, problem);
  }

  for (const definition of definitions) {
    if (!definition.required || hasValue(attributes[definition.name])) continue;
    const hadIt = check.previous !== undefined && hasValue(check.previous[definition.name]);
    if (check.requireAll || hadIt) fail(definition.name, `Attribute ${JSON.stringify(definition.name)} is required (${describeType(definition)}).`);
  }
  return errors;
}

function valueProblem(definition: AttributeDefinition, value: unknown): string | undefined {
  const label = JSON.stringify(definition.name);
  if (definition.multiValued) {
    if (!Array.isArray(value)) return `Attribute ${label} holds several values: it must be an array of ${plural(definition)} (got ${describeValue(value)}).`;
    const index = value.findIndex((v) => elementProblem(definition, v) !== undefined);
    if (index < 0) return undefined;
    return `Attribute ${label} must be an array of ${plural(definition)}; element ${index} ${elementProblem(definition, value[index])}.`;
  }
  const problem = elementProblem(definition, value);
  return problem && `Attribute ${label} must be ${describeType(definition)}; it ${problem}.`;
}

/** Why one value does not fit the type ("is …"), or undefined when it does. */
function elementProblem(definition: AttributeDefinition, value: unknown): string | undefined {
  switch (definition.type) {
    case 'string':
      return typeof value === 'string' ? undefined : `is ${describeValue(value)}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `is ${describeValue(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `is ${describeValue(value)}`;
    case 'date':
      return typeof value === 'string' && isAttributeDate(value) ? undefined : `is ${describeValue(value)}`;
    case 'enum':
      if (typeof value === 'string' && definition.enumValues.includes(value)) return undefined;
      return `is ${describeValue(value)}, not one of ${definition.enumValues.map((v) => `'${v}'`).join(', ')}`;
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const FULL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** 'YYYY-MM-DD', or a full ISO 8601 date-time with seconds and an offset; real calendar dates only. */
export function isAttributeDate(text: string): boolean {
  return (DATE_ONLY.test(text) || FULL_DATE_TIME.test(text)) && normaliseDateTime(text) !== undefined;
}

function describeType(definition: AttributeDefinition): string {
  const one = {
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
    date: "a date ('YYYY-MM-DD' or an ISO 8601 date-time)",
    enum: `one of ${definition.enumValues.map((v) => `'${v}'`).join(', ')}`,
  }[definition.type];
  return definition.multiValued ? `an array of ${plural(definition)}` : one;
}

function plural(definition: AttributeDefinition): string {
  return { string: 'strings', number: 'numbers', boolean: 'booleans', date: 'dates', enum: `values from ${definition.enumValues.map((v) => `'${v}'`).join(', ')}` }[definition.type];
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const shown = JSON.stringify(value);
  return `${typeof value} ${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown}`;
}

/** A required attribute needs a value: not absent, not null, and (for a list) not empty. */
const hasValue = (value: unknown): boolean => value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** RFC 6901: '~' and '/' are escaped in a JSON pointer segment. */
const pointerSegment = (name: string): string => name.replaceAll('~', '~0').replaceAll('/', '~1');
