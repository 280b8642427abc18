import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { parseSelect } from '../filter/expand-parser.js';

/**
 * `$select` on a single resource (and on lists that had none): the same syntax, errors and
 * semantics as on `GET /v1/users` — comma-separated field names of the resource, unknown ones a
 * 400 naming them, `*` for every field, `id` always returned.
 */
export const SELECT_DESCRIPTION = 'Comma-separated fields to return (id is always returned); an unknown field is a 400.';
export const SelectParameter = Type.Optional(Type.String({ maxLength: 1024, description: SELECT_DESCRIPTION }));
/** The query of a single-resource GET that takes only `$select`. */
export const SelectQuery = Type.Object({ $select: SelectParameter }, { additionalProperties: false });

/** The fields `$select` names (undefined: every field); `allowed` is what the resource shows. */
export const selectedFields = (query: { $select?: string | undefined }, allowed: readonly string[]): string[] | undefined => parseSelect(query.$select, allowed);

/** `id` and the selected fields of a presented resource, in the order asked for. */
export function pickFields<T extends Record<string, unknown>>(full: T, select: readonly string[] | undefined): Record<string, unknown> {
  if (!select) return full;
  return Object.fromEntries(['id', ...select.filter((f) => f !== 'id')].filter((f) => f in full).map((f) => [f, full[f]]));
}

/**
 * A selection leaves out fields the route's response schema requires, so it is written as plain
 * JSON: the presented values are JSON already (presenters are where values become JSON).
 */
export function withSelection(reply: FastifyReply, select: readonly string[] | undefined): FastifyReply {
  return select ? reply.serializer(JSON.stringify) : reply;
}
