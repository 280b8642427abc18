import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { DirectoryRecord } from '../../domain/directory.js';
import type { User, UserInput } from '../../domain/user.js';
import type { Services } from '../../services/container.js';
import type { HashedPassword } from '../../services/scim-service.js';
import type { Command } from '../../services/unit-of-work.js';
import { parseIfMatch } from '../routes/user-routes.js';
import { GROUP_MODEL, USER_MODEL } from './scim-attributes.js';
import { etagOf, scimContext, type ScimRequestContext } from './scim-context.js';
import { readDocument, scimFail, type ScimDocument } from './scim-document.js';
import { presentScimError } from './scim-error-presenter.js';
import { documentToGroupInput, groupToDocument, memberIds } from './scim-group-mapping.js';
import { memberPlanner, splitMemberOperations } from './scim-group-routes.js';
import { applyPatch, readPatchRequest } from './scim-patch.js';
import { SCIM_LIMITS, SCIM_URN } from './scim-schema-definitions.js';
import { SCIM_PREFIX } from './scim-urls.js';
import { documentToUserInput, userToDocument, type ScimUserView } from './scim-user-mapping.js';
import { SCIM_QUERY_PARAMETERS, ScimBody, takePassword, takePatchPassword } from './scim-user-routes.js';

/**
 * POST /Bulk (RFC 7644 §3.7): up to `maxOperations` operations on Users and Groups in one
 * request. Each operation runs the same command as its single request, all in ONE unit of work
 * with a savepoint per operation: a failed operation leaves nothing behind and the others
 * commit. `bulkId` references (`"bulkId:…"` in a value or a path) may point forward, to an
 * operation later in the request (it runs first), and between Users and Groups; references in a
 * cycle, to an unknown bulkId or to an operation that failed are errors of the operations that
 * make them. `failOnErrors` stops after that many errors (the operations not run are not listed).
 */

type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface BulkOperation {
  index: number;
  method: Method;
  bulkId?: string;
  version?: string;
  resource: 'Users' | 'Groups';
  /** The id in the path, or `bulkId:x`. */
  target?: string;
  data?: unknown;
  /** bulkIds this operation needs (in its path or data). */
  needs: Set<string>;
}

interface BulkResult {
  method: Method;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

const BULK_ID = /^bulkId:(.+)$/;
/** Most creates batched together (the rows of one createUsers). */
const BULK_RUN = 500;

export function registerScimBulkRoute(app: FastifyInstance, services: Services): void {
  app.post(
    `${SCIM_PREFIX}/Bulk`,
    { config: { auth: 'scim', queryParameters: SCIM_QUERY_PARAMETERS }, bodyLimit: SCIM_LIMITS.bulkMaxPayloadSize, schema: { body: ScimBody } },
    async (request) => {
      const ctx = scimContext(request);
      const { operations, failOnErrors } = readBulkRequest(request.body);
      // Passwords are hashed before the unit: hashing never runs inside a transaction.
      const passwords = new Map<number, HashedPassword | undefined>();
      const documents = new Map<number, ScimDocument | undefined>();
      const early = new Map<number, BulkResult>();
      for (const op of operations) {
        try {
          if ((op.method === 'POST' || op.method === 'PUT') && op.resource === 'Users') {
            const doc = readDocument(USER_MODEL, op.data);
            passwords.set(op.index, await services.scim.hashPassword(takePassword(doc)));
            documents.set(op.index, doc);
          }
        } catch (error) {
          early.set(op.index, failure(op, error));
        }
      }

      const results = await services.units.within(request.principal, async (unit) => {
        const ids = new Map<string, { id: string; resource: 'Users' | 'Groups' } | 'failed'>();
        const done: BulkResult[] = [];
        let errors = 0;
        const pending = [...operations];
        const defined = new Set(operations.flatMap((op) => (op.bulkId !== undefined ? [op.bulkId] : [])));
        while (pending.length > 0) {
          if (failOnErrors !== undefined && errors >= failOnErrors) break;
          // The first operation whose references are all settled; none: the rest wait on each other.
          const next = pending.findIndex((op) => [...op.needs].every((id) => ids.has(id) || !defined.has(id)));
          if (next === -1) {
            for (const op of pending.splice(0)) {
              done.push(failure(op, new AppError('scim.invalid_value', `bulkId references form a cycle among ${[...op.needs].map((b) => `bulkId:${b}`).join(', ')}; break it into separate requests.`), '409'));
              if (op.bulkId !== undefined) ids.set(op.bulkId, 'failed');
              errors++;
            }
            break;
          }
          const run = failOnErrors === undefined ? batchable(pending, next) : [];
          if (run.length > 1) {
            pending.splice(next, run.length);
            for (const result of await createRun(run)) {
              done.push(result);
              if (Number(result.status) >= 400) errors++;
            }
            continue;
          }
          const op = pending.splice(next, 1)[0] as BulkOperation;
          const result = early.get(op.index) ?? (await runOperation(op));
          done.push(result);
          if (Number(result.status) >= 400) {
            errors++;
            if (op.bulkId !== undefined) ids.set(op.bulkId, 'failed');
          }
        }
        return done;

        /**
         * The POST /Users from `from` on that refer to no bulkId: created together (createUsers, a
         * few statements for the whole run) in one savepoint. If the run fails as a whole (an error
         * that is no row's own), it is run again operation by operation.
         */
        function batchable(list: BulkOperation[], from: number): BulkOperation[] {
          const run: BulkOperation[] = [];
          for (let i = from; i < list.length && run.length < BULK_RUN; i++) {
            const op = list[i] as BulkOperation;
            if (op.method !== 'POST' || op.resource !== 'Users' || op.needs.size > 0 || early.has(op.index)) break;
            run.push(op);
          }
          return run;
        }

        async function createRun(run: BulkOperation[]): Promise<BulkResult[]> {
          const results = new Map<number, BulkResult>();
          const rows: { op: BulkOperation; input: UserInput; password: HashedPassword | undefined }[] = [];
          for (const op of run) {
            try {
              const doc = documents.get(op.index) as ScimDocument;
              if (typeof doc.userName !== 'string') scimFail('scim.invalid_value', 'userName is required.');
              rows.push({ op, input: documentToUserInput(doc, null, ctx.mapping), password: passwords.get(op.index) });
            } catch (error) {
              results.set(op.index, failure(op, error));
            }
          }
          const outcome = await unit.attempt(services.scim.createUsersCommand(ctx.actor, rows));
          if (!outcome.ok) {
            for (const { op } of rows) results.set(op.index, await runOperation(op));
          } else {
            outcome.value.forEach((row, i) => {
              const { op } = rows[i] as { op: BulkOperation };
              if (!row.ok) return results.set(op.index, failure(op, row.error));
              if (op.bulkId !== undefined) ids.set(op.bulkId, { id: row.value.id, resource: 'Users' });
              results.set(op.index, { method: 'POST', ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}), version: etagOf(row.value.version), location: `${ctx.baseUrl}/Users/${row.value.id}`, status: '201' });
            });
          }
          return run.map((op) => {
            const result = results.get(op.index) as BulkResult;
            if (Number(result.status) >= 400 && op.bulkId !== undefined) ids.set(op.bulkId, 'failed');
            return result;
          });
        }

        async function runOperation(op: BulkOperation): Promise<BulkResult> {
          let command: Command<{ id: string; version: number } | undefined>;
          try {
            const resolve = (text: string) => resolveBulkId(text, ids, defined);
            const data = op.data === undefined ? undefined : substitute(op.data, resolve);
            const target = op.target === undefined ? undefined : resolve(op.target);
            command = operationCommand(services, ctx, op, data, target, documents.get(op.index), passwords.get(op.index), resolve);
          } catch (error) {
            return failure(op, error);
          }
          const outcome = await unit.attempt(command);
          if (!outcome.ok) return failure(op, outcome.error);
          const value = outcome.value;
          if (value && op.method === 'POST' && op.bulkId !== undefined) ids.set(op.bulkId, { id: value.id, resource: op.resource });
          const status = op.method === 'POST' ? '201' : op.method === 'DELETE' ? '204' : '200';
          return {
            method: op.method,
            ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
            ...(value ? { version: etagOf(value.version), location: `${ctx.baseUrl}/${op.resource}/${value.id}` } : {}),
            status,
          };
        }
      });
      return { schemas: [SCIM_URN.bulkResponse], Operations: results };
    },
  );
}

/** The command of one operation: the same ones the single requests run. */
function operationCommand(
  services: Services,
  ctx: ScimRequestContext,
  op: BulkOperation,
  data: unknown,
  target: string | undefined,
  readDoc: ScimDocument | undefined,
  password: HashedPassword | undefined,
  resolve: (text: string) => string,
): Command<{ id: string; version: number } | undefined> {
  const { scim } = services;
  const expected = parseIfMatch(op.version);
  const asResult = <T extends { id: string; version: number }>(command: Command<T>): Command<{ id: string; version: number }> => async (unit) => {
    const { value, events } = await command(unit);
    return { value: { id: value.id, version: value.version }, events };
  };
  const withDoc = (doc: ScimDocument | undefined): ScimDocument => {
    if (!doc) scimFail('scim.invalid_syntax', `Operations[${op.index}] needs data.`);
    return substitute(doc, resolve) as ScimDocument;
  };
  if (op.resource === 'Users') {
    switch (op.method) {
      case 'POST': {
        const doc = withDoc(readDoc);
        if (typeof doc.userName !== 'string') scimFail('scim.invalid_value', 'userName is required.');
        return asResult(scim.createUserCommand(ctx.actor, documentToUserInput(doc, null, ctx.mapping), password));
      }
      case 'PUT': {
        const doc = withDoc(readDoc);
        if (typeof doc.userName !== 'string') scimFail('scim.invalid_value', 'userName is required: PUT replaces the whole user.');
        return asResult(scim.updateUserCommand(ctx.actor, idOf(target), expected, (current: User, view: ScimUserView) => documentToUserInput(doc, current, ctx.mapping, view), password));
      }
      case 'PATCH': {
        const operations = readPatchRequest(data);
        if (takePatchPassword(operations) !== undefined) scimFail('scim.invalid_value', 'Set passwords with POST or PUT in a Bulk request (a PATCH of password is accepted on /Users/{id}).');
        const change = (current: User, view: ScimUserView) => {
          const doc = applyPatch(USER_MODEL, userToDocument(current, ctx.mapping, view), operations, current.id);
          if (typeof doc.userName !== 'string') scimFail('scim.mutability', 'userName is required and cannot be removed.');
          return documentToUserInput(doc, current, ctx.mapping, view);
        };
        return asResult(scim.updateUserCommand(ctx.actor, idOf(target), expected, change));
      }
      case 'DELETE': {
        const command = scim.deleteUserCommand(ctx.actor, idOf(target), expected, ctx.settings.onDelete);
        return async (unit) => ({ value: undefined, events: (await command(unit)).events });
      }
    }
  }
  switch (op.method) {
    case 'POST': {
      const doc = readDocument(GROUP_MODEL, data);
      return asResult(scim.createGroupCommand(ctx.actor, documentToGroupInput(doc, null, ctx.mapping), memberIds(doc.members)));
    }
    case 'PUT': {
      const doc = readDocument(GROUP_MODEL, data);
      const members = memberIds(doc.members);
      return asResult(scim.updateGroupCommand(ctx.actor, idOf(target), expected, (current: DirectoryRecord) => documentToGroupInput(doc, current, ctx.mapping), { replace: members }));
    }
    case 'PATCH': {
      const { own, members } = splitMemberOperations(readPatchRequest(data));
      const change = own.length > 0 ? (current: DirectoryRecord) => documentToGroupInput(applyPatch(GROUP_MODEL, groupToDocument(current, ctx.mapping), own, current.id), current, ctx.mapping) : undefined;
      return asResult(scim.updateGroupCommand(ctx.actor, idOf(target), expected, change, members.length > 0 ? memberPlanner(members) : undefined));
    }
    case 'DELETE': {
      const command = scim.deleteGroupCommand(ctx.actor, idOf(target), expected);
      return async (unit) => ({ value: undefined, events: (await command(unit)).events });
    }
  }
}

function idOf(target: string | undefined): string {
  if (target === undefined) scimFail('scim.invalid_syntax', 'The path must name the resource: /Users/{id} or /Groups/{id}.');
  return target.toLowerCase();
}

/** Reads the BulkRequest: 413 beyond maxOperations, 400 invalidSyntax for its shape. */
function readBulkRequest(body: unknown): { operations: BulkOperation[]; failOnErrors?: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) scimFail('scim.invalid_syntax', 'The body must be a BulkRequest object with "Operations".');
  const raw = body as Record<string, unknown>;
  const fields = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
  const list = fields.operations;
  if (!Array.isArray(list) || list.length === 0) scimFail('scim.invalid_syntax', '"Operations" must be a non-empty list.');
  if (list.length > SCIM_LIMITS.bulkMaxOperations) {
    throw new AppError('request.body_too_large', `A Bulk request may hold at most ${SCIM_LIMITS.bulkMaxOperations} operations (maxOperations); this one has ${list.length}.`);
  }
  let failOnErrors: number | undefined;
  if (fields.failonerrors !== undefined && fields.failonerrors !== null) {
    if (!Number.isSafeInteger(fields.failonerrors) || (fields.failonerrors as number) < 1) scimFail('scim.invalid_value', 'failOnErrors must be a positive integer.');
    failOnErrors = fields.failonerrors as number;
  }
  const bulkIds = new Set<string>();
  const operations = list.map((entry, index): BulkOperation => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) scimFail('scim.invalid_syntax', `Operations[${index}] must be an object.`);
    const op = Object.fromEntries(Object.entries(entry as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
    const method = typeof op.method === 'string' ? op.method.toUpperCase() : undefined;
    if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') scimFail('scim.invalid_syntax', `Operations[${index}].method must be POST, PUT, PATCH or DELETE.`);
    if (typeof op.path !== 'string') scimFail('scim.invalid_syntax', `Operations[${index}].path is required, e.g. /Users or /Groups/{id}.`);
    const match = /^\/(Users|Groups)(?:\/([^/]+))?$/i.exec(op.path);
    if (!match) scimFail('scim.invalid_path', `Operations[${index}].path must be /Users, /Groups, /Users/{id} or /Groups/{id}, not ${JSON.stringify(op.path.slice(0, 120))}.`);
    const resource = (match[1] as string).toLowerCase() === 'users' ? 'Users' : 'Groups';
    const target = match[2];
    if (method === 'POST' && target !== undefined) scimFail('scim.invalid_path', `Operations[${index}]: POST goes to /${resource}.`);
    if (method !== 'POST' && target === undefined) scimFail('scim.invalid_path', `Operations[${index}]: ${method} needs /${resource}/{id}.`);
    let bulkId: string | undefined;
    if (op.bulkid !== undefined) {
      if (typeof op.bulkid !== 'string' || op.bulkid === '' || op.bulkid.length > 200) scimFail('scim.invalid_value', `Operations[${index}].bulkId must be a non-empty string.`);
      if (bulkIds.has(op.bulkid)) scimFail('scim.invalid_value', `bulkId ${JSON.stringify(op.bulkid)} is used by more than one operation.`);
      bulkIds.add(op.bulkid);
      bulkId = op.bulkid;
    } else if (method === 'POST') {
      scimFail('scim.invalid_syntax', `Operations[${index}]: a POST needs a bulkId (RFC 7644 §3.7).`);
    }
    if (op.version !== undefined && typeof op.version !== 'string') scimFail('scim.invalid_value', `Operations[${index}].version must be an ETag string.`);
    if (method !== 'DELETE' && op.data === undefined) scimFail('scim.invalid_syntax', `Operations[${index}] (${method}) needs data.`);
    const needs = new Set<string>();
    collectBulkIds(op.data, needs);
    if (target !== undefined) collectBulkIds(target, needs);
    return {
      index,
      method,
      resource,
      needs,
      ...(bulkId !== undefined ? { bulkId } : {}),
      ...(typeof op.version === 'string' ? { version: op.version } : {}),
      ...(target !== undefined ? { target } : {}),
      ...(op.data !== undefined ? { data: op.data } : {}),
    };
  });
  for (const op of operations) if (op.bulkId !== undefined && op.needs.has(op.bulkId)) scimFail('scim.invalid_value', `Operation bulkId:${op.bulkId} refers to itself.`);
  return { operations, ...(failOnErrors !== undefined ? { failOnErrors } : {}) };
}

/** Every "bulkId:x" string anywhere in a value (iterative: the body's depth is bounded, but no recursion is needed). */
function collectBulkIds(value: unknown, into: Set<string>): void {
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') {
      const match = BULK_ID.exec(item);
      if (match) into.add(match[1] as string);
    } else if (Array.isArray(item)) stack.push(...item);
    else if (item !== null && typeof item === 'object') stack.push(...Object.values(item));
  }
}

/** The value with every "bulkId:x" string replaced by the id it stands for. */
function substitute(value: unknown, resolve: (text: string) => string): unknown {
  if (typeof value === 'string') return resolve(value);
  if (Array.isArray(value)) return value.map((item) => substitute(item, resolve));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, resolve)]));
  return value;
}

function resolveBulkId(text: string, ids: Map<string, { id: string } | 'failed'>, defined: Set<string>): string {
  const match = BULK_ID.exec(text);
  if (!match) return text;
  const bulkId = match[1] as string;
  const found = ids.get(bulkId);
  if (found === undefined) scimFail('scim.invalid_value', defined.has(bulkId) ? `bulkId:${bulkId} has not been created.` : `No operation of this request has bulkId ${JSON.stringify(bulkId)}.`);
  if (found === 'failed') scimFail('scim.invalid_value', `bulkId:${bulkId} failed, so this operation, which refers to it, was not run.`);
  return found.id;
}

/** A failed operation's result: its SCIM error as `response`, `status` as a string. */
function failure(op: BulkOperation, error: unknown, status?: string): BulkResult {
  if (!(error instanceof AppError)) throw error;
  const body = presentScimError({ code: error.code, status: Number(status ?? error.status), detail: error.message });
  return {
    method: op.method,
    ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
    status: body.status,
    response: body,
  };
}
