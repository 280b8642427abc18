import type { FastifyReply } from 'fastify';
import { scimTypeOf, type ScimType } from '../../errors/error-codes.js';
import type { Problem } from '../problem.js';
import { SCIM_URN } from './scim-schema-definitions.js';

/** The SCIM media type (RFC 7644 §8.1), sent on every response under /scim/v2. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** A SCIM error response body (RFC 7644 §3.12). `status` is the HTTP status as a string. */
export interface ScimErrorBody {
  schemas: [typeof SCIM_URN.error];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/**
 * The SCIM rendering of an error the HTTP error handler has already classified (the same code,
 * status and detail a native route would get as problem+json). The `scimType` comes from the
 * code's catalogue entry, so every route that raises a code reports the same keyword.
 */
export function presentScimError(problem: Pick<Problem, 'code' | 'status' | 'detail'>): ScimErrorBody {
  const unprocessable = problem.status === 422;
  const scimType = scimTypeOf(problem.code) ?? (unprocessable ? 'invalidValue' : undefined);
  return {
    schemas: [SCIM_URN.error],
    status: String(scimStatus(problem.status)),
    ...(scimType ? { scimType } : {}),
    detail: problem.detail,
  };
}

/**
 * The HTTP status SCIM clients expect: RFC 7644 §3.12 has no 422, so a value that refers to
 * nothing (a manager, a member) or breaks a rule is the 400 invalidValue SCIM defines for it.
 */
export const scimStatus = (status: number): number => (status === 422 ? 400 : status);

/** Sends `problem` as a SCIM error; headers already set on the reply (Allow, WWW-Authenticate) stay. */
export function sendScimError(reply: FastifyReply, problem: Pick<Problem, 'code' | 'status' | 'detail'>): FastifyReply {
  return reply.code(scimStatus(problem.status)).type(SCIM_CONTENT_TYPE).send(JSON.stringify(presentScimError(problem)));
}
