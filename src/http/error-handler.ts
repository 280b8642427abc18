import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../errors/app-error.js';
import { errorCatalogue, type ErrorCode } from '../errors/error-codes.js';
import { OAuthError } from '../errors/oauth-error.js';
import { QueryError, type QueryPart } from '../errors/query-error.js';
import { sendProblem, type Problem } from './problem.js';
import { sendScimError } from './scim/scim-error-presenter.js';
import { isScimUrl } from './scim/scim-urls.js';
import { MAX_REPORTED_ERRORS } from './validation.js';
import { knownProperties, readableIssues, suggestParameter, type AjvIssue } from './validation-messages.js';

/** Fastify's own client-error codes, mapped to ours so every 4xx speaks the same language. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.validation_failed',
};

/** The methods a route may have, in the order an `Allow` header lists them. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Sends a classified error in the language of the request's API: a SCIM error under /scim/v2
 * (RFC 7644 §3.12), problem+json everywhere else. Both carry the same code's status and detail.
 */
function sendError(request: FastifyRequest, reply: FastifyReply, problem: Omit<Problem, 'type' | 'requestId'>): FastifyReply {
  return isScimUrl(request.url) ? sendScimError(reply, problem) : sendProblem(request, reply, problem);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // A path that exists under other methods is a 405 listing them (RFC 9110 §15.5.6), not a 404.
    const allowed = HTTP_METHODS.filter((method) => method !== request.method && app.findRoute({ method, url: path }) !== null);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(request, reply, { ...entry('request.method_not_allowed'), detail: `${path} does not take ${request.method}; it takes ${allowed.join(', ')}.` });
    }
    const guide = isScimUrl(path) ? 'The SCIM endpoints are listed at /scim/v2/ResourceTypes.' : 'See /docs for the API.';
    return sendError(request, reply, { ...entry('request.route_not_found'), detail: `No route ${request.method} ${path}. ${guide}` });
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof OAuthError) {
      if (error.status === 401) reply.header('www-authenticate', 'Basic realm="roster"');
      return reply.code(error.status).header('cache-control', 'no-store').send({ error: error.error, error_description: error.description });
    }
    if (error instanceof QueryError) return sendError(request, reply, queryProblem(error, request.routeOptions.config.queryParameters));
    // Constraint violations are already AppErrors here: the store maps them (store.ts).
    const known = error instanceof AppError ? error : undefined;
    if (known) {
      if (known.status === 401) reply.header('www-authenticate', 'Bearer realm="roster"');
      return sendError(request, reply, { code: known.code, title: known.title, status: known.status, detail: known.message, ...(known.errors ? { errors: known.errors } : {}) });
    }
    if (error.validation) {
      // Unions collapsed and messages in plain words first (validation-messages.ts), then at most
      // MAX_REPORTED_ERRORS listed: a body of 520,000 wrong items must not answer 42 MB.
      const issues = readableIssues(error.validation as AjvIssue[]);
      const shown = issues.slice(0, MAX_REPORTED_ERRORS);
      const more = Math.max((error as { validationTotal?: number }).validationTotal ?? issues.length, issues.length) - shown.length;
      const errors = shown.map((v): FieldError => toFieldError(contextOf(v) ?? error.validationContext ?? 'body', v));
      const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
      return sendError(request, reply, { ...entry('request.validation_failed'), detail, errors });
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendError(request, reply, { ...entry(mapped), detail: error.message });
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(request, reply, { ...entry('request.validation_failed'), status: error.statusCode, detail: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, { ...entry('internal.error'), detail: `An unexpected error occurred. Quote request id ${request.id} when reporting it.` });
  });
}

/**
 * Fastify's `frameworkErrors`: what fails before a route is found, and so before the error
 * handler and the hooks run. A path whose percent-encoded bytes are not UTF-8 (`%FF`, an encoded
 * surrogate, an overlong form) is a 400 naming the path; an overlong path parameter keeps its 414.
 */
export function frameworkErrorProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('x-request-id', request.id);
  const path = request.url.split('?')[0] ?? request.url;
  if (error.code === 'FST_ERR_BAD_URL') {
    const message = `${JSON.stringify(clipPath(path))} is not percent-encoded UTF-8`;
    return sendError(request, reply, { ...entry('request.validation_failed'), detail: `/params: ${message}`, errors: [{ field: '/params', message }] });
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const message = `a segment of ${JSON.stringify(clipPath(path))} is longer than the 512 characters a path parameter may have`;
    return sendError(request, reply, { ...entry('request.validation_failed'), status: 414, detail: `/params: ${message}`, errors: [{ field: '/params', message }] });
  }
  request.log.error({ err: error }, 'framework error');
  return sendError(request, reply, { ...entry('internal.error'), detail: `An unexpected error occurred. Quote request id ${request.id} when reporting it.` });
}

/** A hostile path may be megabytes long: the problem shows its start. */
const clipPath = (path: string): string => (path.length > 200 ? `${path.slice(0, 200)}…` : path);

/**
 * A query error names a query part (filter, sort, cursor, …); the route's query language names
 * the parameter the client wrote for it, e.g. `$filter`, which goes into `errors[].field` and
 * before the detail. A language's own parser may have named it already.
 */
function queryProblem(error: QueryError, parameters: Readonly<Record<QueryPart, string>> | undefined) {
  const name = (part: QueryPart) => parameters?.[part] ?? part;
  const field = error.options.parameter ?? name(error.part);
  const other = error.options.conflictsWith;
  const errors: FieldError[] = [{ field, message: error.message }];
  if (other) errors.push({ field: name(other), message: `differs from the ${name(error.part)}` });
  const label = other ? `${field} (${name(other)})` : field;
  const detail = error.message.startsWith(field) ? error.message : `${label}: ${error.message}`;
  return { code: error.code, title: error.title, status: error.status, detail, errors };
}

function entry(code: ErrorCode) {
  return { code, ...errorCatalogue[code] };
}

/** The request part an issue of the input guard names (params, querystring, headers, body). */
const contextOf = (issue: AjvIssue): string | undefined => (typeof issue.params?.context === 'string' ? issue.params.context : undefined);

function toFieldError(part: string, issue: AjvIssue): FieldError {
  const base = `/${part}${issue.instancePath ?? ''}`;
  if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
    const name = issue.params.additionalProperty;
    const known = knownProperties(issue);
    if (part === 'querystring') {
      const suggestion = suggestParameter(name, known);
      const takes = known.length > 0 ? `this route takes: ${known.join(', ')}` : 'this route takes no query parameters';
      return { field: `${base}/${name}`, message: `unknown query parameter ${JSON.stringify(name)}${suggestion ? `; did you mean ${suggestion}?` : ''} (${takes})` };
    }
    const where = issue.instancePath ? ` in ${issue.instancePath}` : '';
    return { field: `${base}/${name}`, message: `unknown field ${JSON.stringify(name)}${where}${known.length > 0 ? `; the fields here are: ${known.join(', ')}` : ''}` };
  }
  if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') {
    return { field: `${base}/${issue.params.missingProperty}`, message: 'is required' };
  }
  return { field: base, message: issue.message ?? 'is not valid' };
}
