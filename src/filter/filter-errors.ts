import { QueryError, type QueryPart } from '../errors/query-error.js';

/** The OData name of each query part, for errors thrown by the OData parsers themselves. */
export const ODATA_PARAMETERS: Readonly<Record<QueryPart, string>> = {
  filter: '$filter',
  sort: '$orderby',
  select: '$select',
  expand: '$expand',
  cursor: 'cursor',
  size: '$top',
  offset: '$skip',
};

/** A problem with one part of a query, in words that fit any query language. */
export const queryError = (part: QueryPart, message: string): QueryError => new QueryError(part, message);

/** A filter the compiler cannot use (unknown field, wrong type, …), whatever syntax it came in. */
export const filterError = (message: string): QueryError => queryError('filter', message);

/** A syntax error from an OData parser, which knows the parameter the client wrote. */
export const odataError = (part: QueryPart, message: string): QueryError => new QueryError(part, message, { parameter: ODATA_PARAMETERS[part] });

/** "Allowed: a, b, c" with a near miss suggested first, which is usually a casing slip. */
export function allowedHint(name: string, allowed: readonly string[]): string {
  const sameLetters = allowed.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  const list = allowed.length > 0 ? `Allowed: ${allowed.join(', ')}.` : 'Nothing is allowed here.';
  return sameLetters ? `Did you mean '${sameLetters}'? ${list}` : list;
}

/** Clips user input for a message so a hostile input cannot bloat the response. */
export const clip = (text: string, max = 40): string => (text.length > max ? `${text.slice(0, max)}…` : text);

export const quote = (text: string, max = 40): string => `'${clip(text, max)}'`;
