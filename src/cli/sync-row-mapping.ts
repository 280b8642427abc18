import { readFileSync } from 'node:fs';
import type { TSchema } from '@sinclair/typebox';
import { ENVIRONMENT_PERMISSIONS } from '../domain/membership.js';
import { BulkUserRowSchema } from '../http/schemas/bulk-schemas.js';
import { CliError, EXIT_USAGE } from './cli-error.js';

/*
 * How the columns of a sync file become the fields of a row (BulkUserRowSchema), and how a CSV
 * cell's text becomes a typed value. The kinds are read from the row schema itself, so a field
 * added to the user (src/domain/user-fields.ts) is accepted by `roster sync` without a change here.
 */

/** The name of the column holding the external key (the user's external id in the run's origin). */
export const KEY_FIELD = 'key';

/**
 * How a CSV cell of a field turns into a value:
 * - `text`: as written (strings, emails, ids, status);
 * - `boolean`: true/false, yes/no, 1/0 (any case);
 * - `number`: a decimal number (an integer where the schema says so);
 * - `reference`: a name, code, id or key as text, or a JSON object such as {"origin":"hr","key":"42"};
 * - `list`: items separated by the column's separator (default `|`), or a JSON array;
 * - `environments`: `name:perm+perm|name2:view` (a name alone means the default, view), or a JSON array;
 * - `json`: a JSON value (objects such as attributes, lists of objects such as identifications).
 */
export type CellKind = 'text' | 'boolean' | 'number' | 'reference' | 'list' | 'environments' | 'json';

type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The non-null alternatives of a schema: its anyOf branches, or its types without 'null'. */
function alternatives(schema: Schema): Schema[] {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).filter((b) => b.type !== 'null').flatMap(alternatives);
  if (Array.isArray(schema.type)) return (schema.type as string[]).filter((t) => t !== 'null').map((type) => ({ ...schema, type }));
  return [schema];
}

const acceptsString = (schema: Schema) => alternatives(schema).some((b) => b.type === 'string');

/** The cell kind of one row field, from its schema. */
function kindOf(field: string, schema: Schema): CellKind {
  if (field === 'environments') return 'environments';
  const branches = alternatives(schema);
  const types = new Set(branches.map((b) => b.type));
  if (types.has('boolean')) return 'boolean';
  if (types.has('integer') || types.has('number')) return 'number';
  if (types.has('array')) {
    const items = branches.find((b) => b.type === 'array')?.items;
    return isSchema(items) && acceptsString(items) ? 'list' : 'json';
  }
  if (types.has('string')) return types.has('object') ? 'reference' : 'text';
  return 'json';
}

/** Every field a row may carry (key first), with its cell kind, in schema order. */
export const ROW_FIELDS: ReadonlyMap<string, CellKind> = new Map(
  Object.entries(BulkUserRowSchema.properties as Record<string, TSchema>).map(([name, schema]) => [name, name === KEY_FIELD ? 'text' : kindOf(name, schema as Schema)]),
);

/** What an empty cell means: the field is not sent (`skip`, the default), or it is cleared (`clear`: null, or [] for a list). */
export type EmptyCell = 'skip' | 'clear';

/** One column's mapping after loading: the field it fills and how its cells are read. */
export interface ColumnRule {
  column: string;
  field: string;
  kind: CellKind;
  split: string;
  empty: EmptyCell;
}

/**
 * The `--map` file, as JSON:
 * ```json
 * { "columns": { "Employee ID": "key", "Mail": "email", "Groups": { "field": "groups", "split": ";" },
 *                "Title": { "field": "title", "empty": "clear" } },
 *   "ignore": ["Comment"], "split": "|", "empty": "skip" }
 * ```
 * `columns` maps a column (as the header writes it) to a field name or to `{field, split?, empty?}`;
 * `ignore` lists columns to leave out; `split` is the default separator of list columns; `empty`
 * what an empty cell means for every column (`skip` or `clear`). Columns not named keep the
 * default rule: a column named like a field (ignoring case) fills it.
 */
export interface ColumnMapping {
  columns: Record<string, { field: string; split?: string; empty?: EmptyCell }>;
  ignore: string[];
  split: string;
  empty: EmptyCell;
}

export const DEFAULT_SPLIT = '|';
export const DEFAULT_MAPPING: ColumnMapping = { columns: {}, ignore: [], split: DEFAULT_SPLIT, empty: 'skip' };

const mappingError = (path: string, message: string) => new CliError(`the mapping file ${path}: ${message}`, EXIT_USAGE);

/** Reads and checks a `--map` file; every problem is a usage error naming the file. */
export function loadMapping(path: string): ColumnMapping {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw mappingError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw mappingError(path, `is not valid JSON (${(error as Error).message})`);
  }
  return parseMapping(raw, path);
}

/** Checks a mapping given as JSON (see ColumnMapping); `source` names it in errors. */
export function parseMapping(raw: unknown, source = 'mapping'): ColumnMapping {
  const fail = (message: string) => mappingError(source, message);
  if (!isSchema(raw)) throw fail('must be a JSON object with "columns" and optionally "ignore", "split", "empty"');
  const unknown = Object.keys(raw).filter((k) => !['columns', 'ignore', 'split', 'empty'].includes(k));
  if (unknown.length > 0) throw fail(`unknown propert${unknown.length === 1 ? 'y' : 'ies'} ${unknown.join(', ')} (known: columns, ignore, split, empty)`);
  const split = raw.split ?? DEFAULT_SPLIT;
  if (typeof split !== 'string' || split === '') throw fail('"split" must be a non-empty string');
  const empty = raw.empty ?? 'skip';
  if (empty !== 'skip' && empty !== 'clear') throw fail('"empty" must be "skip" or "clear"');
  const ignore = raw.ignore ?? [];
  if (!Array.isArray(ignore) || !ignore.every((c) => typeof c === 'string')) throw fail('"ignore" must be an array of column names');
  const columnsRaw = raw.columns ?? {};
  if (!isSchema(columnsRaw)) throw fail('"columns" must be an object of column name → field name or {field, split, empty}');
  const columns: ColumnMapping['columns'] = {};
  const targets = new Map<string, string>();
  for (const [column, rule] of Object.entries(columnsRaw)) {
    const entry = typeof rule === 'string' ? { field: rule } : rule;
    if (!isSchema(entry) || typeof entry.field !== 'string') throw fail(`column "${column}" must map to a field name or {"field": …}`);
    const extra = Object.keys(entry).filter((k) => !['field', 'split', 'empty'].includes(k));
    if (extra.length > 0) throw fail(`column "${column}": unknown propert${extra.length === 1 ? 'y' : 'ies'} ${extra.join(', ')} (known: field, split, empty)`);
    if (!ROW_FIELDS.has(entry.field)) throw fail(`column "${column}" maps to "${entry.field}", which is not a field (fields: ${[...ROW_FIELDS.keys()].join(', ')})`);
    if (entry.split !== undefined && (typeof entry.split !== 'string' || entry.split === '')) throw fail(`column "${column}": "split" must be a non-empty string`);
    if (entry.empty !== undefined && entry.empty !== 'skip' && entry.empty !== 'clear') throw fail(`column "${column}": "empty" must be "skip" or "clear"`);
    const other = targets.get(entry.field);
    if (other !== undefined) throw fail(`columns "${other}" and "${column}" both map to ${entry.field}`);
    targets.set(entry.field, column);
    columns[column] = { field: entry.field, ...(entry.split === undefined ? {} : { split: entry.split as string }), ...(entry.empty === undefined ? {} : { empty: entry.empty as EmptyCell }) };
  }
  return { columns, ignore: ignore as string[], split, empty };
}

const fieldsByLowerName = new Map([...ROW_FIELDS.keys()].map((name) => [name.toLowerCase(), name]));

/**
 * The rule of every column of a header (undefined for an ignored column). Columns that are
 * neither mapped, ignored nor named like a field, a field filled twice, and a missing key column
 * are one error listing them all, before any row is read.
 */
export function columnRules(header: readonly string[], mapping: ColumnMapping = DEFAULT_MAPPING): (ColumnRule | undefined)[] {
  const ignored = new Set(mapping.ignore);
  const unknown: string[] = [];
  const seen = new Map<string, string>();
  const problems: string[] = [];
  const rules = header.map((raw): ColumnRule | undefined => {
    const column = raw.trim();
    if (ignored.has(column) || ignored.has(raw)) return undefined;
    const mapped = mapping.columns[column] ?? mapping.columns[raw];
    const field = mapped?.field ?? fieldsByLowerName.get(column.toLowerCase());
    if (field === undefined) {
      unknown.push(column);
      return undefined;
    }
    const other = seen.get(field);
    if (other !== undefined) problems.push(`columns "${other}" and "${column}" both fill ${field}`);
    seen.set(field, column);
    return { column, field, kind: ROW_FIELDS.get(field) ?? 'text', split: mapped?.split ?? mapping.split, empty: mapped?.empty ?? mapping.empty };
  });
  if (unknown.length > 0) {
    problems.unshift(
      `unknown column${unknown.length === 1 ? '' : 's'} ${unknown.map((c) => JSON.stringify(c)).join(', ')}: name columns like the fields ` +
        `(${[...ROW_FIELDS.keys()].join(', ')}), or map or ignore them with --map`,
    );
  }
  if (!seen.has(KEY_FIELD) && unknown.length === 0) problems.push(`no "${KEY_FIELD}" column: the file needs one column with each person's key (name it "${KEY_FIELD}" or map one to it with --map)`);
  if (problems.length > 0) throw new CliError(problems.join('\n'), 1);
  return rules;
}

/** A problem with one field of one row: `field` is a JSON pointer such as /groups. */
export interface FieldProblem {
  field: string;
  message: string;
}

const TRUE = new Set(['true', 'yes', '1']);
const FALSE = new Set(['false', 'no', '0']);
const PERMISSIONS = new Set<string>(ENVIRONMENT_PERMISSIONS);

/** A JSON cell: the parsed value, or a problem. */
function jsonCell(text: string, what: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { problem: `must be ${what} as JSON (${(error as Error).message})` };
  }
}

/** A JSON array of plain strings in a list cell (what `roster export` writes when an item holds the separator). */
function jsonStringList(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

const splitList = (text: string, separator: string) => text.split(separator).map((s) => s.trim()).filter((s) => s !== '');

/**
 * One environment grant of the `name:perm+perm` syntax. The part after the last colon is the
 * permission list only when every word of it is a permission, so a name holding a colon
 * still reads as a name.
 */
function environmentGrant(item: string): { environment: string; permissions?: string[] } {
  const colon = item.lastIndexOf(':');
  if (colon > 0) {
    const words = item.slice(colon + 1).split('+').map((w) => w.trim().toLowerCase());
    if (words.every((w) => PERMISSIONS.has(w))) return { environment: item.slice(0, colon).trim(), permissions: [...new Set(words)] };
  }
  return { environment: item };
}

/**
 * The value of one cell for its rule: `{skip: true}` when the field is not sent, `{value}`, or
 * `{problem}` with a message (the caller names the field and line).
 */
export function convertCell(text: string, rule: ColumnRule): { skip: true } | { value: unknown } | { problem: string } {
  if (text.trim() === '') {
    if (rule.empty === 'skip' || rule.field === KEY_FIELD) return { skip: true };
    return { value: rule.kind === 'list' || rule.kind === 'environments' ? [] : null };
  }
  switch (rule.kind) {
    case 'text':
      return { value: text };
    case 'boolean': {
      const word = text.trim().toLowerCase();
      if (TRUE.has(word)) return { value: true };
      if (FALSE.has(word)) return { value: false };
      return { problem: `must be true or false (also yes/no, 1/0), not ${JSON.stringify(text)}` };
    }
    case 'number': {
      const n = Number(text.trim());
      return Number.isFinite(n) ? { value: n } : { problem: `must be a number, not ${JSON.stringify(text)}` };
    }
    case 'reference':
      return text.trimStart().startsWith('{') ? ((r) => ('value' in r ? r : { problem: r.problem }))(jsonCell(text, 'a reference object')) : { value: text.trim() };
    case 'list':
      return { value: jsonStringList(text.trim()) ?? splitList(text, rule.split) };
    case 'environments':
      if (text.trimStart().startsWith('[')) return jsonCell(text, 'a list of environment grants');
      return { value: splitList(text, rule.split).map(environmentGrant) };
    case 'json':
      return jsonCell(text, rule.field === 'attributes' || rule.field === 'profile' ? 'an object' : 'a list');
  }
}

/** The row of one CSV record: the fields of its cells, and the problems of cells that do not convert. */
export function rowOfRecord(cells: readonly string[], rules: readonly (ColumnRule | undefined)[]): { row: Record<string, unknown>; problems: FieldProblem[] } {
  const row: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (rule === undefined) continue;
    const converted = convertCell(cells[i] ?? '', rule);
    if ('skip' in converted) continue;
    if ('problem' in converted) problems.push({ field: `/${rule.field}`, message: converted.problem });
    else row[rule.field] = converted.value;
  }
  return { row, problems };
}

/**
 * A JSON row with the mapping applied: mapped properties renamed to their fields, ignored ones
 * dropped. Values are kept as they are (JSON already has types; nothing is split).
 */
export function renameJsonRow(row: Record<string, unknown>, mapping: ColumnMapping): Record<string, unknown> {
  if (Object.keys(mapping.columns).length === 0 && mapping.ignore.length === 0) return row;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (mapping.ignore.includes(name)) continue;
    out[mapping.columns[name]?.field ?? name] = value;
  }
  return out;
}

/**
 * The CSV text of a value of a field, as `roster export` writes it and convertCell reads it
 * back: empty for null and for empty lists and objects (not sent, so left as they are), lists
 * joined with `|` (as a JSON array when an item holds a `|`), objects and lists of objects as JSON.
 */
export function cellOfValue(value: unknown, kind: CellKind): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    if (value.length === 0) return '';
    const joined = value.join(DEFAULT_SPLIT);
    const plain = value.every((v) => typeof v === 'string' && !v.includes(DEFAULT_SPLIT) && v.trim() === v && v !== '');
    // A joined text starting with "[" would read back as JSON: such lists are written as JSON.
    if (kind === 'list' && plain && !joined.startsWith('[')) return joined;
    return JSON.stringify(value);
  }
  if (typeof value === 'object') return Object.keys(value).length === 0 ? '' : JSON.stringify(value);
  return String(value);
}
