import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { formatPath, MAX_FILTER_DEPTH, type ComparisonOperator, type FilterNode, type Literal, type StringFunctionName } from './filter-ast.js';
import { allowedHint, filterError, quote } from './filter-errors.js';
import { columnOperand, inferType, jsonElementKeyOperand, jsonElementOperand, jsonKeyOperand, valueSql, type Operand } from './filter-operands.js';
import {
  describeFields, type CollectionField, type FieldType, type FilterDialect, type FilterSchema, type JsonElementKey, type JsonKeyType, type JsonObjectField,
} from './filter-schema.js';
import { asciiLower, SEGMENT } from './literal-validators.js';
import { identifierKey } from '../domain/identifier-key.js';

export type { FieldType, FilterDialect, FilterSchema } from './filter-schema.js';

type Condition = RawBuilder<SqlBool>;

/**
 * A JSON array a lambda iterates: a jsonArray column, a multi-valued key of a jsonObject column,
 * or a jsonObjectArray (then `objectKeys` lists the keys of its elements and `elementType` is unused).
 */
interface ArrayTarget {
  kind: 'array';
  column: string;
  key?: string | undefined;
  elementType: FieldType;
  objectKeys?: Record<string, JsonElementKey>;
}

type Scope =
  | { kind: 'root' }
  | { kind: 'collection'; name: string; variable: string; field: CollectionField }
  | { kind: 'array'; name: string; variable: string; field: ArrayTarget };

/** What a path needs to be resolved to: typed after a literal, text for functions, raw for null tests. */
type OperandHint = Literal | 'text' | 'raw';

const SYMBOL: Record<ComparisonOperator, string> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };
const COMPLEMENT: Record<ComparisonOperator, ComparisonOperator> = { eq: 'ne', ne: 'eq', gt: 'le', ge: 'lt', lt: 'ge', le: 'gt' };
const ELEMENT_ALIAS = '_filter_el';
const FIELD_TYPES: readonly string[] = ['string', 'number', 'boolean', 'datetime', 'date', 'uuid', 'enum'];

/** Field lookup that ignores inherited names such as 'constructor' or 'toString'. */
const own = <T>(record: Record<string, T>, key: string | undefined): T | undefined =>
  key !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
const MAX_DEPTH = MAX_FILTER_DEPTH;

/**
 * Compiles a filter tree into one SQL condition for `.where(...)`. Every value is a bound
 * parameter; only schema-defined columns and regex-checked JSON keys are inlined.
 *
 * `not` is pushed down to the leaves so the result is two-valued like OData's: a NULL column
 * makes `x eq 'a'` false and `not (x eq 'a')` true, where SQL's NOT would leave both unknown.
 */
export function compileFilter(ast: FilterNode, schema: FilterSchema, dialect: FilterDialect): RawBuilder<SqlBool> {
  const compiler = new FilterCompiler(schema, dialect);
  return sql<SqlBool>`(${compiler.compile(ast, { kind: 'root' }, false, 0)})`;
}

class FilterCompiler {
  constructor(
    private readonly schema: FilterSchema,
    private readonly dialect: FilterDialect,
  ) {}

  compile(node: FilterNode, scope: Scope, negated: boolean, depth: number): Condition {
    if (depth > MAX_DEPTH) throw filterError(`The filter nests more than ${MAX_DEPTH} levels deep; simplify it.`);
    switch (node.kind) {
      case 'and':
      case 'or': {
        const left = this.compile(node.left, scope, negated, depth + 1);
        const right = this.compile(node.right, scope, negated, depth + 1);
        // De Morgan: under negation and becomes or and vice versa.
        return (node.kind === 'and') !== negated ? sql`(${left} and ${right})` : sql`(${left} or ${right})`;
      }
      case 'not':
        return this.compile(node.operand, scope, !negated, depth + 1);
      case 'compare':
        return this.compare(this.operand(node.path, scope, node.value), node.op, node.value, negated);
      case 'in':
        return this.in(this.operand(node.path, scope, node.values.find((v) => v.type !== 'null') ?? 'raw'), node.values, negated);
      case 'function':
        return this.like(this.operand(node.path, scope, 'text'), node.name, node.value, negated);
      case 'present':
        return this.present(node.path, scope, negated);
      case 'any':
        return this.any(node.path, node.variable, node.predicate, scope, negated, depth);
    }
  }

  private compare(operand: Operand, op: ComparisonOperator, literal: Literal, negated: boolean): Condition {
    const { expr } = operand;
    if (literal.type === 'null') {
      if (op !== 'eq' && op !== 'ne') throw filterError(`Only eq and ne can compare ${quote(operand.label)} with null.`);
      return (op === 'eq') !== negated ? sql`${expr} is null` : sql`${expr} is not null`;
    }
    if (op !== 'eq' && op !== 'ne' && !['string', 'number', 'datetime', 'date'].includes(operand.type)) {
      throw filterError(`${quote(operand.label)} can only be compared with eq, ne or in, not ${op}.`);
    }
    const effective = negated ? COMPLEMENT[op] : op;
    const condition = sql<SqlBool>`${expr} ${sql.raw(SYMBOL[effective])} ${valueSql(operand, literal, this.dialect)}`;
    // OData's ne is true for a missing value; SQL's <> is unknown there.
    return (op === 'ne') !== negated ? sql`(${condition} or ${expr} is null)` : condition;
  }

  private in(operand: Operand, values: Literal[], negated: boolean): Condition {
    const { expr } = operand;
    const hasNull = values.some((v) => v.type === 'null');
    const distinct = new Map(values.filter((v) => v.type !== 'null').map((v) => [JSON.stringify(v), v]));
    const bound = [...distinct.values()].map((v) => valueSql(operand, v, this.dialect));
    if (bound.length === 0) return negated ? sql`${expr} is not null` : sql`${expr} is null`;
    const list = sql.join(bound);
    if (negated) return hasNull ? sql`${expr} not in (${list})` : sql`(${expr} not in (${list}) or ${expr} is null)`;
    return hasNull ? sql`(${expr} in (${list}) or ${expr} is null)` : sql`${expr} in (${list})`;
  }

  private like(operand: Operand, name: StringFunctionName, value: string, negated: boolean): Condition {
    if (operand.type !== 'string' && operand.type !== 'date') throw filterError(`${name}() only applies to text fields; ${quote(operand.label)} is ${operand.type}.`);
    // A comparison copy (identifierKey) is matched as stored, so its index stays usable for startswith.
    const folded = operand.caseInsensitive ? identifierKey(value) : asciiLower(value);
    const escaped = folded.replace(/[\\%_]/g, (ch) => `\\${ch}`);
    const pattern = name === 'contains' ? `%${escaped}%` : name === 'startswith' ? `${escaped}%` : `%${escaped}`;
    const target = operand.caseInsensitive || operand.asciiFolded ? operand.expr : sql`lower(${operand.expr})`;
    const condition = sql<SqlBool>`${target} like ${pattern} escape '\\'`;
    return negated ? sql`(not (${condition}) or ${operand.expr} is null)` : condition;
  }

  private present(path: string[], scope: Scope, negated: boolean): Condition {
    const list = scope.kind === 'root' ? this.listTarget(path) : undefined;
    // A list has a value when it has an element.
    if (list) return this.exists(list, undefined, negated);
    const operand = this.operand(path, scope, 'raw');
    const { expr } = operand;
    // SCIM: an empty string is no value.
    if (operand.type === 'string') return negated ? sql`(${expr} is null or ${expr} = '')` : sql`(${expr} is not null and ${expr} <> '')`;
    return negated ? sql`${expr} is null` : sql`${expr} is not null`;
  }

  private any(path: string[], variable: string, predicate: FilterNode, scope: Scope, negated: boolean, depth: number): Condition {
    const name = formatPath(path);
    if (scope.kind !== 'root') throw filterError(`any() inside another any() is not supported (${quote(name)} inside ${quote(scope.name)}).`);
    if (!SEGMENT.test(variable)) throw filterError(`The lambda variable ${quote(variable)} is not a valid name.`);
    const field = this.listTarget(path);
    if (!field) {
      const lists = Object.entries(this.schema.fields).filter(([, f]) => f.kind === 'collection' || f.kind === 'jsonArray' || f.kind === 'jsonObjectArray').map(([n]) => n);
      const multi = path.length === 2 ? ' (an attribute is a list only when its definition is multiValued)' : '';
      throw filterError(`${quote(name)} is not a list, so any() does not apply${multi}. ${allowedHint(name, lists)}`);
    }
    const inner: Scope = field.kind === 'collection' ? { kind: 'collection', name, variable, field } : { kind: 'array', name, variable, field };
    return this.exists(field, this.compile(predicate, inner, false, depth + 1), negated);
  }

  /**
   * The list a root path names, if it is one: a collection, a JSON array column, or
   * `<object>/<key>` where the key's definition is multi-valued (attributes/skills).
   */
  private listTarget(path: string[]): CollectionField | ArrayTarget | undefined {
    const field = own(this.schema.fields, path[0]);
    if (path.length === 1) {
      if (field?.kind === 'collection') return field;
      if (field?.kind === 'jsonArray') return { kind: 'array', column: field.column, elementType: elementType(field.elementType) };
      if (field?.kind === 'jsonObjectArray') {
        // The key is inlined into a JSON path: a schema that breaks the rule is a programming error.
        if (!SEGMENT.test(field.key)) throw new Error(`jsonObjectArray key '${field.key}' of '${path[0]}' is not a plain name`);
        return { kind: 'array', column: field.column, key: field.key, elementType: 'string', objectKeys: field.fields };
      }
      return undefined;
    }
    if (path.length !== 2 || field?.kind !== 'jsonObject') return undefined;
    const key = path[1] as string;
    const declared = declaredKeyType(field, key);
    return declared?.multiValued ? { kind: 'array', column: field.column, key, elementType: elementType(declared.type) } : undefined;
  }

  private exists(field: CollectionField | ArrayTarget, predicate: Condition | undefined, negated: boolean): Condition {
    const where = predicate ?? sql`1 = 1`;
    let subquery: RawBuilder<unknown>;
    if (field.kind === 'collection') {
      subquery = sql`select 1 from ${field.source} where ${field.correlate} and ${where}`;
    } else {
      const col = sql.ref(field.column);
      const alias = sql.ref(ELEMENT_ALIAS);
      // A value that is not an array (bad or legacy data) is treated as empty rather than failing the query.
      if (this.dialect === 'sqlite') {
        const path = field.key === undefined ? undefined : sql.lit(`$.${field.key}`);
        const type = path ? sql`json_type(${col}, ${path})` : sql`json_type(${col})`;
        const array = path ? sql`json_extract(${col}, ${path})` : col;
        subquery = sql`select 1 from json_each(case when ${type} = 'array' then ${array} else '[]' end) as ${alias} where ${where}`;
      } else {
        const array = field.key === undefined ? col : sql`(${col} -> ${sql.lit(field.key)})`;
        subquery = sql`select 1 from jsonb_array_elements(case when jsonb_typeof(${array}) = 'array' then ${array} else '[]'::jsonb end) as ${alias}(value) where ${where}`;
      }
    }
    return negated ? sql`not exists (${subquery})` : sql`exists (${subquery})`;
  }

  private operand(path: string[], scope: Scope, hint: OperandHint): Operand {
    const label = formatPath(path);
    if (scope.kind === 'root') return this.rootOperand(path, label, hint);
    const { variable, name } = scope;
    if (path[0] !== variable) {
      throw filterError(`Inside ${name}/any(${variable}: ...) paths start with the variable, e.g. ${variable}/…; ${quote(label)} does not.`);
    }
    if (scope.kind === 'array' && scope.field.objectKeys) return this.elementKeyOperand(path, label, scope.name, variable, scope.field.objectKeys);
    if (scope.kind === 'array') {
      if (path.length !== 1) throw filterError(`${quote(variable)} is a single value of ${quote(name)}; compare it directly, e.g. ${variable} eq 'x'.`);
      return jsonElementOperand(label, ELEMENT_ALIAS, scope.field.elementType, this.dialect);
    }
    const fieldNames = Object.keys(scope.field.fields).map((f) => `${variable}/${f}`);
    const field = path.length === 2 ? own(scope.field.fields, path[1]) : undefined;
    if (!field) throw filterError(`Unknown field ${quote(label)} in ${name}/any(...). ${allowedHint(label, fieldNames)}`);
    return columnOperand(label, field);
  }

  /** `e/<key>` inside a lambda over a JSON array of objects, typed as the schema declares the key. */
  private elementKeyOperand(path: string[], label: string, name: string, variable: string, keys: Record<string, JsonElementKey>): Operand {
    const key = path.length === 2 ? path[1] : undefined;
    const declared = key !== undefined && SEGMENT.test(key) ? own(keys, key) : undefined;
    if (key === undefined || !declared) {
      const allowed = Object.keys(keys).filter((k) => SEGMENT.test(k)).map((k) => `${variable}/${k}`);
      throw filterError(`Unknown field ${quote(label)} in ${name}/any(...). ${allowedHint(label, allowed)}`);
    }
    return jsonElementKeyOperand(label, ELEMENT_ALIAS, key, elementType(declared.type), declared.caseInsensitive === true, this.dialect);
  }

  private rootOperand(path: string[], label: string, hint: OperandHint): Operand {
    const name = path[0] as string;
    const field = own(this.schema.fields, name);
    if (!field) throw filterError(`Unknown field ${quote(label)}. ${allowedHint(name, describeFields(this.schema))}`);
    switch (field.kind) {
      case 'jsonObject': {
        const key = path[1];
        if (path.length !== 2 || key === undefined || !SEGMENT.test(key)) {
          throw filterError(`${quote(name)} is addressed one key at a time, e.g. ${name}/costCenter eq 'x' (got ${quote(label)}).`);
        }
        if (hint === 'raw') return jsonKeyOperand(label, field.column, key, undefined, this.dialect);
        const resolved = declaredKeyType(field, key);
        if (resolved?.multiValued) {
          // eq/ne null asks whether the attribute has a value at all: the raw value, array or not.
          if (typeof hint === 'object' && hint.type === 'null') return jsonKeyOperand(label, field.column, key, undefined, this.dialect);
          // A comparison with the whole array would never match: say how to ask instead of answering nothing.
          throw filterError(`${quote(label)} holds several values; filter its elements with a lambda, e.g. ${label}/any(v: v eq ${exampleValue(resolved.type)}).`);
        }
        const declared = resolved?.type;
        const type = declared !== undefined ? elementType(declared) : hint === 'text' ? 'string' : inferType(hint);
        return jsonKeyOperand(label, field.column, key, type, this.dialect);
      }
      case 'jsonArray':
      case 'jsonObjectArray':
      case 'collection':
        throw filterError(`${quote(name)} is a list; filter it with a lambda, e.g. ${describeFields({ fields: { [name]: field } })[0]}.`);
      default:
        if (path.length !== 1) throw filterError(`${quote(name)} has no sub-fields (got ${quote(label)}).`);
        return columnOperand(label, field);
    }
  }
}

/** The declared type of a key of a JSON object column, when its definition gives a known one. */
function declaredKeyType(field: JsonObjectField, key: string): JsonKeyType | undefined {
  if (!SEGMENT.test(key)) return undefined;
  const resolved = field.resolveType?.(key);
  return resolved !== undefined && FIELD_TYPES.includes(resolved.type) ? resolved : undefined;
}

/** An enum declared on an attribute or array has no value list here: compare it as text. */
const elementType = (type: FieldType): FieldType => (type === 'enum' ? 'string' : type);

/** A literal of the type, for "write it like this" hints. */
function exampleValue(type: FieldType): string {
  if (type === 'number') return '42';
  if (type === 'boolean') return 'true';
  if (type === 'date') return "'2024-01-31'";
  return "'x'";
}
