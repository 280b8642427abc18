import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/container.js';
import { listResponse } from './scim-context.js';
import { scimFail } from './scim-document.js';
import { listGroups } from './scim-group-routes.js';
import { SCIM_PREFIX } from './scim-urls.js';
import { SCIM_QUERY_PARAMETERS, ScimBody, listUsers, searchParams } from './scim-user-routes.js';

/**
 * POST /.search at the root (RFC 7644 §3.4.3): Users, then Groups, as one index-paged list. A
 * filter that names attributes only one resource type has selects from that type alone (the
 * other answers nothing); a filter neither type understands is the usual 400 invalidFilter.
 * Cursor paging is per resource type, so it is refused here (use /Users/.search or /Groups/.search).
 */
export function registerScimRootSearch(app: FastifyInstance, services: Services): void {
  app.post(`${SCIM_PREFIX}/.search`, { config: { auth: 'scim', queryParameters: SCIM_QUERY_PARAMETERS }, schema: { body: ScimBody } }, async (request) => {
    const params = searchParams(request.body);
    if (params.cursor !== undefined) scimFail('scim.invalid_value', 'Cursor paging is per resource type: search /Users/.search or /Groups/.search with a cursor.');
    if (params.sortBy !== undefined) scimFail('scim.invalid_value', 'sortBy is per resource type: search /Users/.search or /Groups/.search to sort.');
    const start = Math.max(Number(params.startIndex ?? 1) || 1, 1);
    const counted = { ...params, count: 0, startIndex: undefined };
    const users = await settle(() => listUsers(services, request, counted));
    const groups = await settle(() => listGroups(services, request, counted));
    if (users instanceof Error && groups instanceof Error) throw users;
    const userTotal = users instanceof Error ? 0 : (users.totalResults as number);
    const groupTotal = groups instanceof Error ? 0 : (groups.totalResults as number);
    const wanted = params.count === undefined ? 100 : Math.max(Number(params.count) || 0, 0);
    const resources: unknown[] = [];
    if (wanted > 0 && start <= userTotal && !(users instanceof Error)) {
      const page = await listUsers(services, request, { ...params, startIndex: String(start), count: String(Math.min(wanted, userTotal - start + 1)) });
      resources.push(...(page.Resources as unknown[]));
    }
    const left = wanted - resources.length;
    if (left > 0 && !(groups instanceof Error) && start + resources.length > userTotal) {
      const groupStart = start + resources.length - userTotal;
      if (groupStart <= groupTotal) {
        const page = await listGroups(services, request, { ...params, startIndex: String(groupStart), count: String(left) });
        resources.push(...(page.Resources as unknown[]));
      }
    }
    return listResponse(resources, userTotal + groupTotal, { startIndex: start });
  });
}

/** The list, or the 400 it answers (a filter one resource type cannot take). */
async function settle<T>(work: () => Promise<T>): Promise<T | Error> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && 'status' in error && (error as { status: number }).status === 400) return error;
    throw error;
  }
}
