import { sql, type RawBuilder } from 'kysely';
import { describeLiteral, type Literal } from './filter-ast.js';
import { clip, filterError, quote } from './filter-errors.js';
import type { FieldType, FilterDialect, ScalarField } from './filter-schema.js';
import { asciiLower, isUuidText, normaliseDateTime, normaliseDateValue } from './literal-validators.js';
import { identifierKey } from '../domain/identifier-key.js';

/** The left-hand side of a condition: an SQL expression and the rules for its values. */
export interface Operand {
  /** The path as the user wrote it, for messages. */
  label: string;
  expr: RawBuilder<unknown>;
  type: FieldType;
  caseInsensitive: boolean;
  /** `expr` is already lower()ed text: string literals are folded with asciiLower to match. */
  asciiFolded?: boolean;
  enumValues?: readonly string[] | undefined;
  enumAliases?: Readonly<Record<string, string>> | undefined;
}

export function columnOperand(label: string, field: ScalarField): Operand {
  const folded = field.asciiFolded === true && field.type === 'string' && field.caseInsensitive !== true;
  return {
    label,
    expr: folded ? sql`lower(${sql.ref(field.column)})` : sql.ref(field.column),
    type: field.type,
    caseInsensitive: field.caseInsensitive === true,
    ...(folded ? { asciiFolded: true } : {}),
    enumValues: field.enumValues,
    enumAliases: field.enumAliases,
  };
}

/**
 * One key of a JSON object column, NULL unless the stored JSON value has the expected type. The
 * guard makes a row holding "abc" where a number is expected simply not match, instead of
 * failing the whole query with a cast error on PostgreSQL, and makes both dialects agree.
 * `type` undefined gives the raw value, for null and presence tests.
 */
export function jsonKeyOperand(label: string, column: string, key: string, type: FieldType | undefined, dialect: FilterDialect): Operand {
  const col = sql.ref(column);
  if (dialect === 'sqlite') {
    const path = sql.lit(`$.${key}`);
    const value = sql`json_extract(${col}, ${path})`;
    const guard = sqliteTypeGuard(type);
    const expr = guard ? sql`(case when json_type(${col}, ${path}) in (${guard}) then ${value} end)` : value;
    return { label, expr, type: type ?? 'string', caseInsensitive: false };
  }
  const name = sql.lit(key);
  const text = sql`(${col} ->> ${name})`;
  const expr = type === undefined ? text : postgresTyped(sql`(${col} -> ${name})`, text, type);
  return { label, expr, type: type ?? 'string', caseInsensitive: false };
}

/** The current element of a JSON array, under the table alias the EXISTS subquery gives it. */
export function jsonElementOperand(label: string, alias: string, type: FieldType, dialect: FilterDialect): Operand {
  const ref = sql.ref(alias);
  if (dialect === 'sqlite') {
    const expr = sql`(case when ${ref}.type in (${sqliteTypeGuard(type)}) then ${ref}.value end)`;
    return { label, expr, type, caseInsensitive: false };
  }
  const value = sql`${ref}.value`;
  return { label, expr: postgresTyped(value, sql`(${value} #>> '{}')`, type), type, caseInsensitive: false };
}

/**
 * One key of the current element of a JSON array of objects (the EXISTS alias), NULL unless the
 * element is an object and the key holds a JSON value of `type`, so odd data never fails the
 * query and both dialects agree. `caseInsensitive` string keys are lower()ed (see JsonElementKey).
 */
export function jsonElementKeyOperand(label: string, alias: string, key: string, type: FieldType, caseInsensitive: boolean, dialect: FilterDialect): Operand {
  const ref = sql.ref(alias);
  let expr: RawBuilder<unknown>;
  if (dialect === 'sqlite') {
    const path = sql.lit(`$.${key}`);
    // Nested CASEs because json_type() on a primitive element (not JSON text) would raise an error.
    expr = sql`(case when ${ref}.type = 'object' then (case when json_type(${ref}.value, ${path}) in (${sqliteTypeGuard(type)}) then json_extract(${ref}.value, ${path}) end) end)`;
  } else {
    // -> and ->> give NULL on a non-object element, so no guard is needed for the element itself.
    const name = sql.lit(key);
    expr = postgresTyped(sql`(${ref}.value -> ${name})`, sql`(${ref}.value ->> ${name})`, type);
  }
  const folded = caseInsensitive && type === 'string';
  return { label, expr: folded ? sql`lower(${expr})` : expr, type, caseInsensitive: false, asciiFolded: folded };
}

function sqliteTypeGuard(type: FieldType | undefined): RawBuilder<unknown> | undefined {
  if (type === undefined) return undefined;
  if (type === 'number') return sql`'integer', 'real'`;
  if (type === 'boolean') return sql`'true', 'false'`;
  return sql`'text'`;
}

function postgresTyped(json: RawBuilder<unknown>, text: RawBuilder<unknown>, type: FieldType): RawBuilder<unknown> {
  if (type === 'number') return sql`(case when jsonb_typeof(${json}) = 'number' then (${text})::numeric end)`;
  if (type === 'boolean') return sql`(case when jsonb_typeof(${json}) = 'boolean' then (${text})::boolean end)`;
  // "C" collation so text from JSON sorts and lowercases exactly like SQLite's BINARY.
  return sql`(case when jsonb_typeof(${json}) = 'string' then ${text} collate "C" end)`;
}

/** The JSON value types a literal stands for when no attribute definition says otherwise. */
export function inferType(literal: Literal): FieldType | undefined {
  switch (literal.type) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return undefined;
    default:
      return 'string';
  }
}

const INT4 = 2 ** 31;

/**
 * Converts a literal to the bound parameter for an operand, rejecting type mismatches with a
 * message that shows the fix. Returns SQL because a few values need a cast around the parameter.
 */
export function valueSql(operand: Operand, literal: Literal, dialect: FilterDialect): RawBuilder<unknown> {
  return bindValue(convert(operand, literal), dialect);
}

/** A bound parameter in the form each driver and column type expects. */
export function bindValue(value: string | number | boolean, dialect: FilterDialect): RawBuilder<unknown> {
  if (typeof value === 'boolean' && dialect === 'sqlite') return sql`${value ? 1 : 0}`;
  // PostgreSQL types an untyped parameter after the column: 1.5 against an integer column would
  // fail to parse. Small integers stay bare so an index on the column is still usable.
  if (typeof value === 'number' && dialect === 'postgres' && !(Number.isInteger(value) && Math.abs(value) < INT4)) {
    return sql`cast(${value} as numeric)`;
  }
  return sql`${value}`;
}

function convert(operand: Operand, literal: Literal): string | number | boolean {
  const { label } = operand;
  const shown = describeLiteral(literal);
  switch (operand.type) {
    case 'string':
      if (literal.type === 'string' || literal.type === 'guid') {
        if (operand.caseInsensitive) return identifierKey(literal.value);
        return operand.asciiFolded ? asciiLower(literal.value) : literal.value;
      }
      throw filterError(`${quote(label)} is text; put the value in quotes, e.g. ${label} eq '${clip(shown)}'.`);
    case 'number':
      if (literal.type === 'number') return literal.value;
      throw filterError(`${quote(label)} is a number; write the value without quotes, e.g. ${label} eq 42 (got ${clip(shown)}).`);
    case 'boolean':
      if (literal.type === 'boolean') return literal.value;
      throw filterError(`${quote(label)} is true or false; write e.g. ${label} eq true (got ${clip(shown)}).`);
    case 'datetime': {
      const iso = literal.type === 'datetime' ? literal.value : literal.type === 'string' ? normaliseDateTime(literal.value) : undefined;
      if (iso !== undefined) return iso;
      throw filterError(`${quote(label)} is a date-time; write e.g. ${label} gt 2024-01-31T09:30:00Z or ${label} ge 2024-01-31 (got ${clip(shown)}).`);
    }
    case 'date': {
      // An unquoted date-time arrives already in toISOString form; quoted text is normalised here.
      const value = literal.type === 'datetime' ? literal.value : literal.type === 'string' ? normaliseDateValue(literal.value) : undefined;
      if (value !== undefined) return value;
      throw filterError(`${quote(label)} is a date; write e.g. ${label} ge '2024-01-31' or ${label} lt '2024-01-31T09:30:00Z' (got ${clip(shown)}).`);
    }
    case 'uuid':
      if ((literal.type === 'guid' || literal.type === 'string') && isUuidText(literal.value)) return literal.value.toLowerCase();
      throw filterError(`${quote(label)} takes an id in UUID form, e.g. 0190a0b2-8d3e-7c4f-9a1b-2c3d4e5f6a7b (got ${clip(shown)}).`);
    case 'enum': {
      const allowed = operand.enumValues ?? [];
      const aliases = Object.entries(operand.enumAliases ?? {});
      const spelled = literal.type === 'string' ? (aliases.find(([alias]) => alias.toLowerCase() === literal.value.toLowerCase())?.[1] ?? literal.value) : undefined;
      const match = spelled !== undefined ? allowed.find((v) => v.toLowerCase() === spelled.toLowerCase()) : undefined;
      if (match !== undefined) return match;
      throw filterError(`${quote(label)} must be one of ${allowed.map((v) => `'${v}'`).join(', ')} (got ${clip(shown)}).`);
    }
  }
}
