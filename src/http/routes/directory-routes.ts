import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/app-error.js';
import { DIRECTORY, type DirectoryDefinition, type DirectoryRecord } from '../../domain/directory.js';
import type { Services } from '../../services/container.js';
import { presentRecord } from '../presenters/directory-presenter.js';
import { IdParams, Nullable, problemResponses } from '../schemas/common-schemas.js';
import { DirectoryListQuery, directoryNames, directorySchemas } from '../schemas/directory-schemas.js';
import { parseIfMatch } from './user-routes.js';
import { ODATA_QUERY, odataListQuery } from '../odata-query.js';
import { SelectQuery, pickFields, selectedFields, withSelection } from '../select.js';

const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'W/"<version>" from the ETag; 412 when the record has changed since.' })) });

/** The same six routes (and, for trees, descendants) for every directory kind. */
export function registerDirectoryRoutes(fastify: FastifyInstance, services: Services): void {
  for (const def of Object.values(DIRECTORY)) registerKind(fastify, services, def);
}

function registerKind(fastify: FastifyInstance, services: Services, def: DirectoryDefinition): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { directory } = services;
  const schemas = directorySchemas(def);
  const base = `/v1/${def.path}`;
  const tags = [def.title];
  const label = def.kind.replaceAll('_', ' ');
  const present = (record: DirectoryRecord) => presentRecord(def, record);
  const send = (reply: FastifyReply, record: DirectoryRecord, status = 200) => reply.code(status).header('etag', `W/"${record.version}"`).send(present(record));
  // What $select may name: every field a record of this kind shows.
  const selectable = Object.keys(schemas.response.properties);
  // OpenAPI: operationIds and names from the kind (createGroup, listGroups, GroupPage, …).
  const { one, many } = directoryNames(def);
  const component = one;
  const fieldList = Object.keys(def.fields).join(', ');

  app.post(base, {
    config: { auth: 'directory:write', idempotent: true },
    schema: {
      tags, summary: `Create a ${label}`, body: schemas.create, response: { 201: schemas.response, ...problemResponses(400, 409, 422) },
      operationId: `create${one}`, description: `Fields: ${fieldList}. The Location header names the new ${label} and the ETag its version.`,
      responseHeaders: { 201: ['Location', 'ETag'] },
    },
  }, async (req, reply) => {
    const record = await directory.create(req.principal, def, req.body as Record<string, unknown>);
    return send(reply.header('location', `${base}/${record.id}`), record, 201);
  });

  app.get(base, {
    config: { auth: 'directory:read', ...ODATA_QUERY },
    schema: {
      tags, summary: `List ${def.title.toLowerCase()}`, querystring: DirectoryListQuery,
      response: {
        200: Type.Object({ items: Type.Array(schemas.response), nextCursor: Nullable(Type.String()), count: Type.Optional(Type.Integer()) }, { 'x-component': `${component}Page` }),
        ...problemResponses(400),
      },
      operationId: `list${many}`,
      description: `OData query options: \`$filter\` (e.g. \`startswith(name,'A')\`), \`$orderby\`, \`$top\`, \`$skip\` and \`$count\`. Pages are \`{items, nextCursor}\`: pass nextCursor back as \`cursor\`.`,
    },
  }, async (req, reply) => {
    const query = odataListQuery(req.query, selectable);
    const page = await directory.list(req.principal, def, query);
    const items = page.items.map((record) => pickFields(present(record), query.select));
    return withSelection(reply, query.select).send({ items, nextCursor: page.nextCursor, ...(page.count !== undefined ? { count: page.count } : {}) });
  });

  app.get(`${base}/:id`, {
    config: { auth: 'directory:read', ...ODATA_QUERY },
    schema: {
      tags, summary: `Get a ${label}`, params: IdParams, querystring: SelectQuery, response: { 200: schemas.response, ...problemResponses(400, 404) },
      operationId: `get${one}`, description: `The ${label} by id; \`$select\` picks fields. The ETag is the version to send as If-Match.`, responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => {
    const select = selectedFields(req.query, selectable);
    const record = await directory.get(req.principal, def, req.params.id);
    return withSelection(reply.header('etag', `W/"${record.version}"`), select).send(pickFields(present(record), select));
  });

  app.put(`${base}/:id`, {
    config: { auth: 'directory:write' },
    schema: {
      tags, summary: `Replace a ${label}`, params: IdParams, headers: IfMatchHeaders, body: schemas.replace, response: { 200: schemas.response, ...problemResponses(400, 404, 409, 412, 422) },
      operationId: `replace${one}`, description: 'Sends the whole record: what GET returned may be sent back (read-only fields are ignored); optional fields left out are cleared.',
      responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => {
    const { id, createdAt: _c, updatedAt: _u, version: _v, configSecrets: _s, ...input } = req.body as Record<string, unknown>;
    if (id !== undefined && id !== req.params.id) {
      throw new AppError('request.validation_failed', 'The id in the body differs from the id in the URL.', [{ field: '/body/id', message: 'must equal the id in the URL' }]);
    }
    return send(reply, await directory.replace(req.principal, def, req.params.id, input, parseIfMatch(req.headers['if-match'])));
  });

  app.patch(`${base}/:id`, {
    config: { auth: 'directory:write' },
    schema: {
      tags, summary: `Update some fields of a ${label} (JSON Merge Patch)`, params: IdParams, headers: IfMatchHeaders, body: schemas.patch, response: { 200: schemas.response, ...problemResponses(400, 404, 409, 412, 422) },
      operationId: `patch${one}`, consumes: ['application/merge-patch+json', 'application/json'],
      description: 'JSON Merge Patch (RFC 7396): only the fields sent change; `null` clears a field.', responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => send(reply, await directory.patch(req.principal, def, req.params.id, req.body as Record<string, unknown>, parseIfMatch(req.headers['if-match']))));

  app.delete(`${base}/:id`, {
    config: { auth: 'directory:write' },
    schema: {
      tags, summary: `Delete a ${label}`, params: IdParams, headers: IfMatchHeaders, response: { 204: Type.Null(), ...problemResponses(404, 409, 412) },
      operationId: `delete${one}`,
      description: `Deleting a ${label} that other records still point to is refused (409)${def.membership ? '; its memberships are removed, with an event per user' : ''}.`,
    },
  }, async (req, reply) => {
    await directory.delete(req.principal, def, req.params.id, parseIfMatch(req.headers['if-match']));
    return reply.code(204).send(null);
  });

  if (def.tree) {
    app.get(`${base}/:id/descendants`, {
      config: { auth: 'directory:read' },
      schema: {
        tags, summary: `Every ${label} below this one, with its depth (1 = child)`, params: IdParams,
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({ ...schemas.response.properties, depth: Type.Integer() }, { 'x-component': `${component}Descendant` })) }, { 'x-component': `${component}DescendantList` }),
          ...problemResponses(404),
        },
        operationId: `list${one}Descendants`, description: `The whole subtree below the ${label} (children have depth 1), in one list.`,
      },
    }, async (req) => ({ items: (await directory.descendants(req.principal, def, req.params.id)).map(({ record, depth }) => ({ ...present(record), depth })) }));
  }
}
