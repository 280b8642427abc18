import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';

type QueryOptionCode = Extract<
  ErrorCode,
  | 'request.invalid_filter'
  | 'request.invalid_orderby'
  | 'request.invalid_cursor'
  | 'request.invalid_expand'
  | 'request.invalid_select'
>;

const PARAMETER: Record<QueryOptionCode, string> = {
  'request.invalid_filter': '$filter',
  'request.invalid_orderby': '$orderby',
  'request.invalid_cursor': 'cursor',
  'request.invalid_expand': '$expand',
  'request.invalid_select': '$select',
};

/** The error names the query option too, so clients can point at the offending input. */
export function queryOptionError(code: QueryOptionCode, message: string): AppError {
  return new AppError(code, message, [{ field: PARAMETER[code], message }]);
}

/** "Allowed: a, b, c" with a near miss suggested first, which is usually a casing slip. */
export function allowedHint(name: string, allowed: readonly string[]): string {
  const sameLetters = allowed.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  const list = allowed.length > 0 ? `Allowed: ${allowed.join(', ')}.` : 'Nothing is allowed here.';
  return sameLetters ? `Did you mean '${sameLetters}'? ${list}` : list;
}

export function filterError(message: string): AppError {
  return queryOptionError('request.invalid_filter', message);
}

/** Clips user input for a message so a hostile input cannot bloat the response. */
export const clip = (text: string, max = 40): string => (text.length > max ? `${text.slice(0, max)}…` : text);

export const quote = (text: string, max = 40): string => `'${clip(text, max)}'`;
