import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isEmailAddress } from '../domain/email-address.js';
import { freeJsonProblem } from '../domain/storable-values.js';
import { normaliseDateTime } from '../filter/literal-validators.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * The keyword free-form JSON schemas carry (user `attributes`, identity provider `config`):
 * `{"x-json-limits": {"maxDepth": 32, "maxBytes": 65536}}` (see domain/storable-values.ts). The
 * `x-` prefix keeps it a valid OpenAPI extension, so the published document shows the limits.
 */
export const JSON_LIMITS_KEYWORD = 'x-json-limits';

/** At most this many problems are listed in a 400; the detail says how many more there were. */
export const MAX_REPORTED_ERRORS = 20;
/**
 * Above this many values a failing body is not searched for every problem (ajv's allErrors
 * costs time and memory per problem: a 1 MB array of 520,000 wrong items took 250 ms and
 * produced a 42 MB answer); the first problem is reported, which is the one to fix.
 */
const FULL_REPORT_MAX_VALUES = 10_000;

/**
 * RFC 3339 date-time, and only what both databases hold the same way: a real calendar date and
 * time (no 24:00, no leap second 23:59:60, which JavaScript cannot represent), years 0001–9999.
 */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const isStorableDateTime = (text: string): boolean => DATE_TIME.test(text) && normaliseDateTime(text) !== undefined;

function configure(ajv: Ajv): Ajv {
  addFormats(ajv);
  // JSON Schema's idn-email: an RFC 6531 address, internationalised ones included.
  ajv.addFormat('idn-email', { type: 'string', validate: isEmailAddress });
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime });
  ajv.addKeyword({
    keyword: JSON_LIMITS_KEYWORD,
    schemaType: 'object',
    errors: true,
    validate: function checkLimits(limits: { maxDepth: number; maxBytes: number }, data: unknown) {
      const problem = freeJsonProblem(data, limits);
      if (problem === undefined) return true;
      (checkLimits as unknown as ValidateFunction).errors = [{ keyword: JSON_LIMITS_KEYWORD, params: limits, message: problem }] as unknown as ValidateFunction['errors'];
      return false;
    },
  });
  ajv.addKeyword({
    keyword: LOWER_CASE_KEYWORD,
    type: 'string',
    schemaType: 'boolean',
    modifying: true,
    errors: false,
    validate: (_on: boolean, data: string, _schema?: unknown, where?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }) => {
      if (where?.parentData !== undefined && data !== data.toLowerCase()) where.parentData[where.parentDataProperty] = data.toLowerCase();
      return true;
    },
  });
  return ajv;
}

/** Internal keyword (never published): the string is replaced by its lower-case form once it is valid. */
const LOWER_CASE_KEYWORD = 'x-roster-lower-case';

/**
 * UUIDs compare case-insensitively (RFC 9562 §4) and Roster stores and compares them in lower
 * case, so every string of format uuid a request carries (path and query parameters, body ids
 * such as managerId and membership ids) is lower-cased where it enters: the copy of the schema
 * given to Ajv marks each uuid with LOWER_CASE_KEYWORD. The route schemas (and the OpenAPI
 * document) stay as written.
 */
function lowerCaseUuids(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowerCaseUuids);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = lowerCaseUuids(value);
  if (copy.format === 'uuid') copy[LOWER_CASE_KEYWORD] = true;
  return copy;
}

// verbose: issues carry their schema and data, so validation-messages.ts can say what was expected in plain words.
const shared: Options = { strict: false, useDefaults: true, removeAdditional: false, allowUnionTypes: true, verbose: true };

/**
 * Two validators: request bodies are JSON, so their types are checked strictly (a number sent
 * for a string is an error, never silently converted); query strings and path parameters are
 * text by nature, so they are coerced to the declared type. Unknown fields are errors in both.
 * Bodies are checked first by a validator that stops at the first problem; only a failing body
 * of bounded size is then searched for every problem.
 */
const bodyFirst = configure(new Ajv({ ...shared, allErrors: false, coerceTypes: false }));
const bodyAll = configure(new Ajv({ ...shared, allErrors: true, coerceTypes: false }));
const textAjv = configure(new Ajv({ ...shared, allErrors: true, coerceTypes: true }));

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema: declared, httpPart }) => {
  const schema = lowerCaseUuids(declared) as object;
  if (httpPart !== 'body') return textAjv.compile(schema);
  const first = bodyFirst.compile(schema);
  const all = bodyAll.compile(schema);
  const validate = (data: unknown): boolean => {
    if (first(data)) return true;
    validate.errors = countValues(data, FULL_REPORT_MAX_VALUES) > FULL_REPORT_MAX_VALUES || all(data) ? first.errors : all.errors;
    return false;
  };
  validate.errors = null as ValidateFunction['errors'];
  return validate;
};

/** The number of values in a JSON value, counting no further than `stopAt`. */
function countValues(value: unknown, stopAt: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= stopAt) {
    const current = stack.pop();
    count++;
    if (typeof current !== 'object' || current === null) continue;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (stack.length > stopAt) break;
      stack.push(child);
    }
  }
  return count;
}
