import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/app-error.js';
import {
  SCIM_RESOURCE_TYPES,
  SCIM_SCHEMAS,
  SCIM_SERVICE_PROVIDER_CONFIG,
  SCIM_URN,
  type ScimResourceTypeDefinition,
  type ScimSchemaDefinition,
} from './scim-schema-definitions.js';
import { SCIM_PREFIX, scimBaseUrl } from './scim-urls.js';

/*
 * The SCIM discovery endpoints (RFC 7644 §4): what the service provider supports, which resource
 * types it has and their schemas. They answer any valid credential: a client reads them before it
 * knows what it may do. /Me is refused: Roster's SCIM credentials are API clients, not users.
 */

/** Discovery lists take no query; a `filter` is refused (RFC 7644 §4), other parameters are ignored. */
const DiscoveryQuery = Type.Object({ filter: Type.Optional(Type.String()) });
const NameParams = Type.Object({ name: Type.String() }, { additionalProperties: false });

/** Registers /ServiceProviderConfig, /ResourceTypes, /Schemas and /Me under /scim/v2. */
export function registerScimDiscoveryRoutes(app: FastifyInstance): void {
  const options = { config: { auth: 'authenticated' as const } };

  app.get(`${SCIM_PREFIX}/ServiceProviderConfig`, options, async (request) => ({
    ...SCIM_SERVICE_PROVIDER_CONFIG,
    meta: meta(request, 'ServiceProviderConfig', '/ServiceProviderConfig'),
  }));

  app.get(`${SCIM_PREFIX}/ResourceTypes`, { ...options, schema: { querystring: DiscoveryQuery } }, async (request) => {
    refuseFilter(request, 'ResourceTypes');
    return listResponse(SCIM_RESOURCE_TYPES.map((type) => presentResourceType(request, type)));
  });

  app.get(`${SCIM_PREFIX}/ResourceTypes/:name`, { ...options, schema: { params: NameParams } }, async (request) => {
    const { name } = request.params as { name: string };
    const type = SCIM_RESOURCE_TYPES.find((t) => t.id.toLowerCase() === name.toLowerCase());
    if (!type) throw new AppError('request.route_not_found', `No resource type ${JSON.stringify(name)}; this service provider has: ${SCIM_RESOURCE_TYPES.map((t) => t.id).join(', ')}.`);
    return presentResourceType(request, type);
  });

  app.get(`${SCIM_PREFIX}/Schemas`, { ...options, schema: { querystring: DiscoveryQuery } }, async (request) => {
    refuseFilter(request, 'Schemas');
    return listResponse(SCIM_SCHEMAS.map((schema) => presentSchema(request, schema)));
  });

  // Schema URNs are compared without case (RFC 8141 §3.1 for the `urn:ietf` part; clients vary).
  app.get(`${SCIM_PREFIX}/Schemas/:name`, { ...options, schema: { params: NameParams } }, async (request) => {
    const { name } = request.params as { name: string };
    const schema = SCIM_SCHEMAS.find((s) => s.id.toLowerCase() === name.toLowerCase());
    if (!schema) throw new AppError('request.route_not_found', `No schema ${JSON.stringify(name)}; this service provider has: ${SCIM_SCHEMAS.map((s) => s.id).join(', ')}.`);
    return presentSchema(request, schema);
  });

  app.all(`${SCIM_PREFIX}/Me`, options, async () => {
    throw new AppError(
      'scim.not_implemented',
      '/Me is not implemented: Roster SCIM credentials are API clients and tokens, not users, so there is no authenticated user to return. Use /Users/{id}.',
    );
  });
}

/** RFC 7644 §4: a filter on /Schemas or /ResourceTypes is a 403, so a client never takes an unfiltered list for a filtered one. */
function refuseFilter(request: FastifyRequest, endpoint: string): void {
  if ((request.query as { filter?: string }).filter !== undefined) {
    throw new AppError('scim.filter_not_allowed', `/${endpoint} does not take a filter (RFC 7644 §4); request the whole list.`);
  }
}

/** A ListResponse of every item on one page (RFC 7644 §3.4.2). */
function listResponse<T>(resources: readonly T[]) {
  return { schemas: [SCIM_URN.listResponse], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources };
}

function meta(request: FastifyRequest, resourceType: string, path: string) {
  return { resourceType, location: `${scimBaseUrl(request)}${path}` };
}

function presentResourceType(request: FastifyRequest, type: ScimResourceTypeDefinition) {
  return { schemas: [SCIM_URN.resourceType], ...type, meta: meta(request, 'ResourceType', `/ResourceTypes/${type.id}`) };
}

function presentSchema(request: FastifyRequest, schema: ScimSchemaDefinition) {
  return { schemas: [SCIM_URN.schema], ...schema, meta: meta(request, 'Schema', `/Schemas/${schema.id}`) };
}
