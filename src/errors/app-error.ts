import { errorCatalogue, type ErrorCode } from './error-codes.js';

/** One field-level problem, as listed in a problem+json `errors` array. */
export interface FieldError {
  /** JSON pointer or dotted path of the offending input, e.g. `/body/email` or `$filter`. */
  field: string;
  message: string;
}

/**
 * The single error type every layer throws. Services and repositories never build HTTP
 * responses; the HTTP error handler turns an AppError into application/problem+json (or a SCIM
 * error) using the catalogue's status and title.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, detail?: string, errors?: FieldError[]) {
    const entry = errorCatalogue[code];
    super(detail ?? entry.title);
    this.name = 'AppError';
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.errors = errors;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** An AppError as plain data, kept with a row or an item to show later: its code, status and words. */
export interface StoredProblem {
  code: string;
  status: number;
  title: string;
  detail: string;
  errors?: FieldError[];
}

export function storedProblem(error: AppError): StoredProblem {
  return {
    code: error.code,
    status: error.status,
    title: error.title,
    detail: error.message,
    ...(error.errors && error.errors.length > 0 ? { errors: error.errors } : {}),
  };
}
