import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DirectoryRecord } from '../../domain/directory.js';
import type { Principal } from '../../domain/principal.js';
import type { ScimFilter } from '../../filter/scim-filter-ast.js';
import type { MemberChange } from '../../services/commands/membership-commands.js';
import type { Services } from '../../services/container.js';
import type { MemberPlanner } from '../../services/scim-service.js';
import { parseIfMatch } from '../routes/user-routes.js';
import { GROUP_MODEL, SCIM_GROUP_URN, findAttribute } from './scim-attributes.js';
import { notModified, resourceId, scimContext, sendResource, type ScimRequestContext } from './scim-context.js';
import { readDocument, scimFail, type ScimDocument } from './scim-document.js';
import { documentToGroupInput, groupToDocument, memberIds, presentScimGroup, resolveGroupFilterPath } from './scim-group-mapping.js';
import { answerList, scimListQuery, type ScimListParams, type ScimListResource } from './scim-list-query.js';
import { applyPatch, matches, readPatchRequest, type ScimPatchOperation } from './scim-patch.js';
import { parseProjection, project, wants, type ScimProjection } from './scim-projection.js';
import { SCIM_PREFIX } from './scim-urls.js';
import { scopeCollection } from './scim-filter-scope.js';
import { SCIM_QUERY_PARAMETERS, ScimBody, ScimIdParams, ScimListQuerySchema, ScimResourceQuerySchema, searchParams } from './scim-user-routes.js';

const config = { auth: 'scim' as const, queryParameters: SCIM_QUERY_PARAMETERS };
const MEMBERS = findAttribute(GROUP_MODEL.core, 'members');

/** How groups answer SCIM filters and sortBy for this credential. */
export function groupListResource(ctx: ScimRequestContext): ScimListResource {
  return {
    model: GROUP_MODEL,
    resolve: resolveGroupFilterPath,
    rewrite: (node) => {
      const mapped = scopeCollection(node, 'externalIds', 'origin', ctx.mapping.origin);
      // For a credential limited to its own users, a filter on `members` sees only those members.
      return ctx.actor.owner === undefined ? mapped : scopeCollection(mapped, 'members', 'provisionedBy', ctx.actor.owner);
    },
    sortField: (field) => field,
    scope: ctx.actor.owner === undefined ? undefined : { kind: 'compare', op: 'eq', path: ['provisionedBy'], value: { type: 'string', value: ctx.actor.owner } },
  };
}

/**
 * SCIM Groups (RFC 7644 §3.3–3.6) over the group and membership commands. Members are loaded in
 * one query per group only when the response shows them; a PATCH of members never loads the
 * member list unless it replaces it or filters it by more than `value`.
 */
export function registerScimGroupRoutes(app: FastifyInstance, services: Services): void {
  const { scim } = services;

  app.get(`${SCIM_PREFIX}/Groups`, { config, schema: { querystring: ScimListQuerySchema } }, async (request) => listGroups(services, request, request.query as ScimListParams));
  app.post(`${SCIM_PREFIX}/Groups/.search`, { config, schema: { body: ScimBody } }, async (request) => listGroups(services, request, searchParams(request.body)));

  app.post(`${SCIM_PREFIX}/Groups`, { config: { ...config, idempotent: true }, schema: { body: ScimBody, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const projection = groupProjection(request);
    const doc = readDocument(GROUP_MODEL, request.body);
    const group = await scim.createGroup(request.principal, ctx.actor, documentToGroupInput(doc, null, ctx.mapping), memberIds(doc.members));
    return sendResource(reply, await presentGroup(services, request.principal, ctx, group, projection), group.version, 201);
  });

  app.get(`${SCIM_PREFIX}/Groups/:id`, { config, schema: { params: ScimIdParams, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const projection = groupProjection(request);
    const group = await scim.getGroup(request.principal, ctx.actor, resourceId((request.params as { id: string }).id, 'group.not_found'));
    if (notModified(request, group.version)) return reply.code(304).header('etag', `W/"${group.version}"`).send();
    return sendResource(reply, await presentGroup(services, request.principal, ctx, group, projection), group.version);
  });

  app.put(`${SCIM_PREFIX}/Groups/:id`, { config, schema: { params: ScimIdParams, body: ScimBody, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const projection = groupProjection(request);
    const id = resourceId((request.params as { id: string }).id, 'group.not_found');
    const doc = readDocument(GROUP_MODEL, request.body);
    const members = memberIds(doc.members);
    const group = await scim.updateGroup(request.principal, ctx.actor, id, parseIfMatch(request.headers['if-match']), (current) => documentToGroupInput(doc, current, ctx.mapping), { replace: members });
    return sendResource(reply, await presentGroup(services, request.principal, ctx, group, projection), group.version);
  });

  app.patch(`${SCIM_PREFIX}/Groups/:id`, { config, schema: { params: ScimIdParams, body: ScimBody, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const query = request.query as { attributes?: string; excludedAttributes?: string };
    const projection = groupProjection(request);
    const id = resourceId((request.params as { id: string }).id, 'group.not_found');
    const { own, members } = splitMemberOperations(readPatchRequest(request.body));
    const memberChange = members.length > 0 ? memberPlanner(members) : undefined;
    const change = own.length > 0 ? (current: DirectoryRecord) => documentToGroupInput(applyPatch(GROUP_MODEL, groupToDocument(current, ctx.mapping), own, current.id), current, ctx.mapping) : undefined;
    const group = await scim.updateGroup(request.principal, ctx.actor, id, parseIfMatch(request.headers['if-match']), change, memberChange);
    reply.header('etag', `W/"${group.version}"`);
    // RFC 7644 §3.5.2: 204 unless the client asked for the resource with attributes/excludedAttributes.
    if (query.attributes === undefined && query.excludedAttributes === undefined) return reply.code(204).send();
    return sendResource(reply, await presentGroup(services, request.principal, ctx, group, projection), group.version);
  });

  app.delete(`${SCIM_PREFIX}/Groups/:id`, { config, schema: { params: ScimIdParams } }, async (request, reply) => {
    const ctx = scimContext(request);
    await scim.deleteGroup(request.principal, ctx.actor, resourceId((request.params as { id: string }).id, 'group.not_found'), parseIfMatch(request.headers['if-match']));
    return reply.code(204).send();
  });
}

/** GET /Groups and POST /Groups/.search. */
export async function listGroups(services: Services, request: FastifyRequest, params: ScimListParams): Promise<Record<string, unknown>> {
  const ctx = scimContext(request);
  const projection = parseProjection(GROUP_MODEL, params.attributes, params.excludedAttributes);
  const plan = scimListQuery(params, groupListResource(ctx));
  return answerList(plan, 'groups', (query) => services.scim.listGroups(request.principal, query), (groups) => presentGroups(services, request.principal, ctx, groups, projection));
}

/** SCIM Groups for a page: the members of all of them in one query, only when the response shows them. */
async function presentGroups(services: Services, principal: Principal, ctx: ScimRequestContext, groups: readonly DirectoryRecord[], projection: ScimProjection): Promise<ScimDocument[]> {
  if (groups.length === 0) return [];
  const members = wants(projection, 'members') ? await services.scim.groupMembers(principal, ctx.actor, groups.map((g) => g.id)) : undefined;
  return groups.map((group) => {
    const list = members?.get(group.id);
    return project(GROUP_MODEL, presentScimGroup(group, ctx.mapping, { baseUrl: ctx.baseUrl, ...(list ? { members: list } : {}) }), projection);
  });
}

const presentGroup = async (services: Services, principal: Principal, ctx: ScimRequestContext, group: DirectoryRecord, projection: ScimProjection): Promise<ScimDocument> =>
  (await presentGroups(services, principal, ctx, [group], projection))[0] as ScimDocument;

function groupProjection(request: FastifyRequest): ScimProjection {
  const query = request.query as { attributes?: string; excludedAttributes?: string };
  return parseProjection(GROUP_MODEL, query.attributes, query.excludedAttributes);
}

/**
 * Separates the operations on `members` from those on the group's own attributes (a path-less
 * add/replace may carry both: its `members` key becomes a members operation of its own).
 */
export function splitMemberOperations(operations: readonly ScimPatchOperation[]): { own: ScimPatchOperation[]; members: ScimPatchOperation[] } {
  const own: ScimPatchOperation[] = [];
  const members: ScimPatchOperation[] = [];
  for (const operation of operations) {
    const path = operation.path;
    if (path) {
      const core = path.uri === undefined || path.uri.toLowerCase() === SCIM_GROUP_URN.toLowerCase();
      if (core && path.attribute.toLowerCase() === 'members') members.push(operation);
      else own.push(operation);
      continue;
    }
    const value = operation.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      own.push(operation);
      continue;
    }
    const rest: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key.toLowerCase() === 'members') members.push({ op: operation.op, path: { attribute: 'members' }, value: inner });
      else rest[key] = inner;
    }
    if (Object.keys(rest).length > 0) own.push({ ...operation, value: rest });
  }
  return { own, members };
}

/**
 * The net member change of a PATCH's `members` operations (run inside the write's unit), in order: add, remove (all, some
 * values, or those a filter selects) and replace. Filters other than `value eq "…"` (and `or` of
 * them) are evaluated on the member list, loaded once.
 */
export function memberPlanner(operations: readonly ScimPatchOperation[]): MemberPlanner {
  return (loadMembers) => planMembers(operations, loadMembers);
}

async function planMembers(operations: readonly ScimPatchOperation[], loadMembers: () => Promise<{ id: string; displayName: string }[]>): Promise<MemberChange> {
  let replace: Set<string> | undefined;
  const add = new Set<string>();
  const remove = new Set<string>();
  let loaded: ScimDocument[] | undefined;
  const current = async () => (loaded ??= (await loadMembers()).map((m) => ({ value: m.id, display: m.displayName, type: 'User' })));
  const adding = (ids: string[]) => {
    for (const id of ids) {
      if (replace) replace.add(id);
      else {
        add.add(id);
        remove.delete(id);
      }
    }
  };
  const removing = (ids: string[]) => {
    for (const id of ids) {
      if (replace) replace.delete(id);
      else {
        remove.add(id);
        add.delete(id);
      }
    }
  };
  for (const operation of operations) {
    const path = operation.path;
    if (path?.subAttribute !== undefined) scimFail('scim.mutability', `members.${path.subAttribute} cannot be changed: a member is added or removed whole.`);
    if (operation.op === 'remove') {
      if (path?.valueFilter) {
        const ids = valueEquals(path.valueFilter) ?? (await selectMembers(await current(), path.valueFilter));
        removing(ids);
      } else if (operation.value === undefined || operation.value === null) {
        replace = new Set();
        add.clear();
        remove.clear();
      } else {
        removing(memberIds(operation.value));
      }
      continue;
    }
    if (path?.valueFilter) scimFail('scim.invalid_path', `${operation.op} on members takes the path "members" and the members as its value.`);
    const ids = memberIds(operation.value);
    if (operation.op === 'replace') {
      replace = new Set(ids);
      add.clear();
      remove.clear();
    } else {
      adding(ids);
    }
  }
  return replace ? { replace: [...replace] } : { add: [...add], remove: [...remove] };
}

/** The ids of `value eq "…"` (or an `or` of such): no need to read the member list. */
function valueEquals(filter: ScimFilter): string[] | undefined {
  if (filter.kind === 'or') {
    const left = valueEquals(filter.left);
    const right = valueEquals(filter.right);
    return left && right ? [...left, ...right] : undefined;
  }
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.attribute.toLowerCase() === 'value' && typeof filter.value === 'string') return [filter.value.toLowerCase()];
  return undefined;
}

async function selectMembers(members: ScimDocument[], filter: ScimFilter): Promise<string[]> {
  return members.filter((m) => matches(MEMBERS as NonNullable<typeof MEMBERS>, m, filter)).map((m) => m.value as string);
}
