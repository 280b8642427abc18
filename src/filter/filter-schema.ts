import type { RawBuilder, SqlBool } from 'kysely';

/**
 * What a resource exposes to filters: the public field names and how each maps onto SQL.
 * Only names listed here can ever reach a query, which is what keeps filters injection-proof.
 */
export type FieldType = 'string' | 'number' | 'boolean' | 'datetime' | 'date' | 'uuid' | 'enum';

export type FilterDialect = 'sqlite' | 'postgres';

export interface ScalarField {
  kind?: 'column';
  /** Qualified column, e.g. 'users.email'. Developer-supplied, never user input. */
  column: string;
  type: FieldType;
  /**
   * The column holds a lowercased copy (String#toLowerCase), so literals are lowercased too and
   * the plain index on the column serves eq, in and startswith.
   */
  caseInsensitive?: boolean;
  /**
   * Compare `lower(column)` with the literal lowered the same way (ASCII only, alike on SQLite and
   * PostgreSQL): case-insensitive text without a lowered copy (SCIM caseExact false); no index.
   */
  asciiFolded?: boolean;
  /** Required for type 'enum': the accepted values in their stored spelling. */
  enumValues?: readonly string[];
  /** For type 'enum': older spellings still accepted in filters, each read as the value it names. */
  enumAliases?: Readonly<Record<string, string>>;
}

/**
 * What a definition says about one key of a JSON object column. `date` keys hold 'YYYY-MM-DD'
 * or a date-time in `toISOString()` form as text, so literals are normalised the same way.
 * A `multiValued` key holds an array of the type and is filtered with a lambda only.
 */
export interface JsonKeyType {
  type: FieldType;
  multiValued?: boolean;
}

/** A JSON object column addressed as `<name>/<key>`, e.g. attributes/costCenter. */
export interface JsonObjectField {
  kind: 'jsonObject';
  /** TEXT holding JSON on SQLite, jsonb on PostgreSQL. */
  column: string;
  /** The declared type of a key; undefined means "infer from the literal". */
  resolveType?: (name: string) => JsonKeyType | undefined;
}

/** A JSON array of primitives, filtered with a lambda: tags/any(t: t eq 'x'). */
export interface JsonArrayField {
  kind: 'jsonArray';
  column: string;
  elementType: FieldType;
}

/** One key of the objects in a JsonObjectArrayField, e.g. `value` or `primary` of an email. */
export interface JsonElementKey {
  type: FieldType;
  /**
   * Compare as text folded by lower() in SQL and asciiLower on the literal: ASCII letters only,
   * because SQLite's lower() folds nothing else and PostgreSQL's under the "C" collation agrees.
   * So `A@X.com` matches `a@x.COM` on both databases, while `É` and `é` stay different on both.
   */
  caseInsensitive?: boolean;
}

/**
 * A JSON array of objects stored under `key` of a JSON object column, filtered with a lambda
 * over its elements: emails/any(e: e/type eq 'work' and e/value eq 'a@x.com'). A missing key,
 * a value that is not an array and an element that is not an object hold no matching element;
 * an element key whose JSON value is not of the declared type has no value.
 */
export interface JsonObjectArrayField {
  kind: 'jsonObjectArray';
  /** TEXT holding JSON on SQLite, jsonb on PostgreSQL, e.g. 'users.profile'. */
  column: string;
  /** The array's key in the column's object, e.g. 'emails'. Developer-supplied, matching SEGMENT. */
  key: string;
  /** The element keys filters may name (value, type, primary, display…), each matching SEGMENT. */
  fields: Record<string, JsonElementKey>;
}

/**
 * A child table (or join) filtered with a lambda, compiled to
 * EXISTS (SELECT 1 FROM <source> WHERE <correlate> AND <predicate>).
 */
export interface CollectionField {
  kind: 'collection';
  /** e.g. sql`user_external_ids as e`, or sql`user_groups ug join groups g on g.id = ug.group_id`. */
  source: RawBuilder<unknown>;
  /** e.g. sql`e.user_id = users.id`. */
  correlate: RawBuilder<SqlBool>;
  /** Element fields by public name, with columns qualified by the aliases used in source. */
  fields: Record<string, ScalarField>;
}

export type FilterField = ScalarField | JsonObjectField | JsonArrayField | JsonObjectArrayField | CollectionField;

export interface FilterSchema {
  fields: Record<string, FilterField>;
}

/** How each field is written in a filter, for "allowed fields" hints. */
export function describeFields(schema: FilterSchema): string[] {
  return Object.entries(schema.fields).map(([name, field]) => {
    switch (field.kind) {
      case 'jsonObject':
        return `${name}/<name>`;
      case 'jsonArray':
        return `${name}/any(x: x eq …)`;
      case 'collection':
      case 'jsonObjectArray':
        return `${name}/any(x: x/${Object.keys(field.fields)[0] ?? 'field'} eq …)`;
      default:
        return name;
    }
  });
}
