import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

/** RFC 9457 problem details; `type` points at the error's entry in the docs. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Omit<Problem, 'type' | 'requestId'>): FastifyReply {
  const body: Problem = {
    type: `https://roster.dev/errors/${problem.code}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    requestId: request.id,
    ...(problem.errors && problem.errors.length > 0 ? { errors: problem.errors } : {}),
  };
  return reply.code(problem.status).type('application/problem+json').send(JSON.stringify(body));
}
