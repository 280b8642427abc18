import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../errors/app-error.js';
import { errorCatalogue, type ErrorCode } from '../errors/error-codes.js';
import { OAuthError } from '../errors/oauth-error.js';
import { sendProblem } from './problem.js';

/** Fastify's own client-error codes, mapped to ours so every 4xx speaks the same language. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.validation_failed',
};

export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    sendProblem(request, reply, { ...entry('request.route_not_found'), detail: `No route ${request.method} ${request.url.split('?')[0]}. See /docs for the API.` });
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof OAuthError) {
      if (error.status === 401) reply.header('www-authenticate', 'Basic realm="roster"');
      return reply.code(error.status).header('cache-control', 'no-store').send({ error: error.error, error_description: error.description });
    }
    // Constraint violations are already AppErrors here: the store maps them (store.ts).
    const known = error instanceof AppError ? error : undefined;
    if (known) {
      if (known.status === 401) reply.header('www-authenticate', 'Bearer realm="roster"');
      return sendProblem(request, reply, { code: known.code, title: known.title, status: known.status, detail: known.message, ...(known.errors ? { errors: known.errors } : {}) });
    }
    if (error.validation) {
      const errors = error.validation.map((v): FieldError => toFieldError(error.validationContext ?? 'body', v));
      return sendProblem(request, reply, { ...entry('request.validation_failed'), detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors });
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendProblem(request, reply, { ...entry(mapped), detail: error.message });
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(request, reply, { ...entry('request.validation_failed'), status: error.statusCode, detail: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, { ...entry('internal.error'), detail: `An unexpected error occurred. Quote request id ${request.id} when reporting it.` });
  });
}

function entry(code: ErrorCode) {
  return { code, ...errorCatalogue[code] };
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function toFieldError(part: string, issue: AjvIssue): FieldError {
  const base = `/${part}${issue.instancePath ?? ''}`;
  if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
    return { field: `${base}/${issue.params.additionalProperty}`, message: 'unknown field' };
  }
  if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') {
    return { field: `${base}/${issue.params.missingProperty}`, message: 'is required' };
  }
  return { field: base, message: issue.message ?? 'is not valid' };
}
