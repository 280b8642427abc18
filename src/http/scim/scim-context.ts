import type { FastifyReply, FastifyRequest } from 'fastify';
import { identifierKey } from '../../domain/identifier-key.js';
import { DEFAULT_SCIM_SETTINGS, type ScimSettings } from '../../domain/principal.js';
import { AppError } from '../../errors/app-error.js';
import { isUuid } from '../../lib/ids.js';
import type { ScimActor } from '../../services/scim-service.js';
import { SCIM_URN } from './scim-schema-definitions.js';
import { scimBaseUrl } from './scim-urls.js';
import type { ScimUserContext } from './scim-user-mapping.js';

/**
 * What every SCIM request needs to know about its credential: the origin SCIM `externalId`
 * reads and writes (the mapping), the origin recorded on what it creates and whether it is
 * limited to that (the actor; origins compare in their identifier form, so "Entra" and "entra"
 * are one origin), what DELETE does, and the absolute base URL of resource locations.
 */
export interface ScimRequestContext {
  settings: ScimSettings;
  actor: ScimActor;
  mapping: ScimUserContext;
  baseUrl: string;
}

export function scimContext(request: FastifyRequest): ScimRequestContext {
  const settings = request.principal.scim ?? DEFAULT_SCIM_SETTINGS;
  const origin = identifierKey(settings.origin);
  return {
    settings,
    actor: { origin, owner: settings.owns === 'own' ? origin : undefined },
    mapping: { origin: settings.origin },
    baseUrl: scimBaseUrl(request),
  };
}

/** A resource id from the URL: anything that is not an id names no resource (404, as for an unknown id). */
export function resourceId(id: string, notFound: 'user.not_found' | 'group.not_found'): string {
  const lower = id.toLowerCase();
  if (!isUuid(lower)) throw new AppError(notFound, `No ${notFound === 'user.not_found' ? 'user' : 'group'} with id ${JSON.stringify(id.slice(0, 80))}.`);
  return lower;
}

/** The weak ETag of a version (the native API's, RFC 7644 §3.14). */
export const etagOf = (version: number): string => `W/"${version}"`;

/** RFC 7232 If-None-Match on a GET: true when the client's copy is current (answer 304). */
export function notModified(request: FastifyRequest, version: number): boolean {
  const header = request.headers['if-none-match'];
  if (header === undefined) return false;
  const tags = header.split(',').map((t) => t.trim());
  return tags.includes('*') || tags.some((t) => t.replace(/^W\//, '') === `"${version}"`);
}

/** Sends one resource with its ETag and, on create, its Location. */
export function sendResource(reply: FastifyReply, body: Record<string, unknown>, version: number, status = 200): FastifyReply {
  reply.code(status).header('etag', etagOf(version));
  const location = (body.meta as { location?: string } | undefined)?.location;
  if (status === 201 && location) reply.header('location', location);
  return reply.send(body);
}

/** A ListResponse (RFC 7644 §3.4.2; RFC 9865 nextCursor). */
export function listResponse(
  resources: unknown[],
  totalResults: number,
  paging: { startIndex?: number; nextCursor?: string | null | undefined; previousCursor?: string | null | undefined },
): Record<string, unknown> {
  return {
    schemas: [SCIM_URN.listResponse],
    totalResults,
    itemsPerPage: resources.length,
    ...(paging.startIndex !== undefined ? { startIndex: paging.startIndex } : {}),
    ...(paging.previousCursor ? { previousCursor: paging.previousCursor } : {}),
    ...(paging.nextCursor ? { nextCursor: paging.nextCursor } : {}),
    Resources: resources,
  };
}
