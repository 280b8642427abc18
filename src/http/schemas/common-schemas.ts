import { Type, type Static, type TNull, type TSchema, type TUnion } from '@sinclair/typebox';
import { errorCatalogue } from '../../errors/error-codes.js';
import { DEFAULT_PAGE_SIZE } from '../../domain/list-query.js';
import { MAX_CURSOR_LENGTH } from '../../filter/list-cursor.js';
import { FREE_JSON_LIMITS } from '../../domain/storable-values.js';
import { JSON_LIMITS_KEYWORD } from '../validation.js';

export { MAX_CURSOR_LENGTH };

/**
 * `T | null`. Primitive schemas become `type: [t, 'null']` rather than `anyOf`: the response
 * serializer (fast-json-stringify) writes a type list directly, but resolves every `anyOf` by
 * running a validator on the value, which made large pages several times slower.
 */
export function Nullable<T extends TSchema>(schema: T): TUnion<[T, TNull]> {
  const type = (schema as { type?: unknown }).type;
  if (typeof type === 'string' && type !== 'object' && type !== 'array' && !('anyOf' in schema)) {
    return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] }) as unknown as TUnion<[T, TNull]>;
  }
  return Type.Union([schema, Type.Null()]);
}

export const Uuid = Type.String({ format: 'uuid', description: 'A UUID (Roster issues UUIDv7).' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const Timestamp = Type.String({ format: 'date-time' });

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI identifying the kind of problem.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: 'What went wrong in this request, in words a user can act on.' }),
    code: Type.Union(Object.keys(errorCatalogue).map((c) => Type.Literal(c)), { description: 'Stable machine-readable code: branch on this.' }),
    requestId: Type.String({ description: 'Also sent as the X-Request-Id header; quote it when reporting a problem.' }),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', title: 'Problem (RFC 9457)' },
);

/** The error responses a route can produce, declared once so OpenAPI lists them everywhere. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: describeStatus(status), content: { 'application/problem+json': { schema: Type.Ref('Problem') } } }]),
  );
}

function describeStatus(status: number): string {
  const codes = Object.entries(errorCatalogue)
    .filter(([, e]) => e.status === status)
    .map(([c]) => c);
  return `Problem details; code is one of: ${codes.join(', ')}`;
}

/**
 * A free-form JSON object (user `attributes`, identity provider `config`): its limits travel with
 * the schema, so validation enforces them before anything else touches the value and the
 * OpenAPI document states them.
 */
export function FreeJsonObject(options: { maxProperties: number; description?: string | undefined }) {
  const limits = `At most ${FREE_JSON_LIMITS.maxDepth} levels of nesting and ${FREE_JSON_LIMITS.maxBytes} bytes as JSON.`;
  return Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
    maxProperties: options.maxProperties,
    description: options.description ? `${options.description} ${limits}` : limits,
    [JSON_LIMITS_KEYWORD]: FREE_JSON_LIMITS,
  });
}

// No schema default: Ajv would fill it in, and a cursor (which carries its page size) could not tell it from a sent one.
/** `$top`: the page size of every list (one paging vocabulary: `$top` and `cursor` in, `{items, nextCursor}` out). */
export const PageQueryTop = Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size (default 50; with a cursor, the cursor\'s page size).' });
/** `limit`: the older name of `$top` on lists that had it, kept for one release; both at once is a 400. */
export const PageQueryLimit = Type.Integer({ minimum: 1, maximum: 1000, deprecated: true, description: 'Deprecated alias of $top (sending both is a 400).' });
/** The page-size parameters of a list that used to take `limit`. */
export const PageSizeQuery = { $top: Type.Optional(PageQueryTop), limit: Type.Optional(PageQueryLimit) };
export const ListQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The nextCursor of the previous page.' })),
  },
  { additionalProperties: false },
);

/** The query of a route that takes no query parameters: any parameter is a 400 naming it. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/**
 * OpenAPI names a schema carrying this key `#/components/schemas/<name>` (http/openapi-document.ts);
 * validation ignores it. Derived schemas (Type.Partial, spreads) copy it, so give them their own.
 */
export const COMPONENT = 'x-component';
const componentName = (schema: TSchema): string | undefined => (typeof schema[COMPONENT] === 'string' ? schema[COMPONENT] : undefined);

/** `{items, nextCursor}`; named `<Item>Page` when the item is named. */
export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object(
    { items: Type.Array(item), nextCursor: Nullable(Type.String({ description: 'Pass as ?cursor= for the next page; null on the last page.' })) },
    componentName(item) === undefined ? {} : { [COMPONENT]: `${componentName(item)}Page` },
  );

/** List query options: a cursor is bound to the whole query, so $top has no fixed default with one. */
export const TOP_DESCRIPTION = `Page size (default ${DEFAULT_PAGE_SIZE}; with a cursor, the cursor's page size).`;
export const CURSOR_DESCRIPTION =
  'The nextCursor of the previous page (keyset paging). It carries the whole query: $filter, $orderby, $select and $top may be left out (they are ' +
  "taken from the cursor) or sent unchanged; a different value is a 400 request.invalid_cursor.";
