import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ListQuery } from '../../src/domain/list-query.js';
import { systemPrincipal } from '../../src/domain/principal.js';
import { QueryError } from '../../src/errors/query-error.js';
import type { FilterNode } from '../../src/filter/filter-ast.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import type { UserService } from '../../src/services/user-service.js';
import { createTestDatabase } from '../helpers/test-database.js';

/** The service tier takes a parsed query: a filter tree built in code, no query-language text. */
let runtime: Runtime;
let drop: () => Promise<void>;
let users: UserService;
const principal = systemPrincipal('default', 'list-query-test');

const inDepartment = (department: string): FilterNode => ({ kind: 'compare', op: 'eq', path: ['department'], value: { type: 'string', value: department } });
const names = (items: { userName: string }[]) => items.map((u) => u.userName);
const query = (parts: Partial<ListQuery> = {}): ListQuery => ({ sort: [{ field: 'userName', direction: 'asc' }], page: { size: 2 }, count: false, ...parts });

async function rejection(promise: Promise<unknown>): Promise<QueryError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(QueryError);
  return error as QueryError;
}

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  runtime = await openRuntime(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', ROSTER_ISSUER: 'http://roster.test' }));
  users = runtime.services.users;
  await runtime.services.clients.bootstrap(undefined); // creates the default tenant
  for (const [userName, department] of [['ada', 'R&D'], ['grace', 'R&D'], ['barbara', 'R&D'], ['alan', 'Crypto']]) {
    await users.create(principal, { userName, department });
  }
});
afterAll(async () => {
  await runtime?.close();
  await drop?.();
});

describe('UserService.list with a ListQuery', () => {
  it('filters, sorts, counts and pages by cursor with a tree built in code', async () => {
    const first = await users.list(principal, query({ filter: inDepartment('R&D'), count: true }));
    expect(names(first.items)).toEqual(['ada', 'barbara']);
    expect(first.count).toBe(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await users.list(principal, query({ filter: inDepartment('R&D'), page: { size: 2, cursor: first.nextCursor as string } }));
    expect(names(second.items)).toEqual(['grace']);
    expect(second.nextCursor).toBeNull();
  });

  it('sorts descending and pages by offset', async () => {
    const page = await users.list(principal, query({ sort: [{ field: 'userName', direction: 'desc' }], page: { size: 2, offset: 1 } }));
    expect(names(page.items)).toEqual(['barbara', 'alan']);
  });

  it('reports problems by query part, without naming any query language parameter', async () => {
    const cases: [ListQuery, QueryError['part'], string][] = [
      [query({ filter: { kind: 'compare', op: 'eq', path: ['password'], value: { type: 'string', value: 'x' } } }), 'filter', "Unknown field 'password'"],
      [query({ filter: { kind: 'compare', op: 'gt', path: ['createdAt'], value: { type: 'string', value: 'soon' } } }), 'filter', 'is a date-time'],
      [query({ sort: [{ field: 'password', direction: 'asc' }] }), 'sort', "Cannot sort by 'password'. Allowed: userName,"],
      [query({ sort: [{ field: 'userName', direction: 'asc' }, { field: 'userName', direction: 'desc' }] }), 'sort', 'more than once'],
      [query({ page: { size: 2, cursor: 'not-a-cursor' } }), 'cursor', 'not valid'],
    ];
    for (const [bad, part, fragment] of cases) {
      const error = await rejection(users.list(principal, bad));
      expect(error.part).toBe(part);
      expect(error.message).toContain(fragment);
      expect(error.message).not.toContain('$');
      expect(error.options.parameter).toBeUndefined();
    }
  });

  it('binds a cursor to its query: another filter, sort or page size is refused, naming the part', async () => {
    const cursor = (await users.list(principal, query({ filter: inDepartment('R&D') }))).nextCursor as string;
    const others: [Partial<ListQuery>, QueryError['part']][] = [
      [{ filter: inDepartment('Crypto') }, 'filter'],
      [{ filter: inDepartment('R&D'), sort: [{ field: 'userName', direction: 'desc' }] }, 'sort'],
      [{ filter: inDepartment('R&D'), select: ['userName'] }, 'select'],
      [{ filter: inDepartment('R&D'), page: { size: 3 } }, 'size'],
    ];
    for (const [parts, conflict] of others) {
      const page = { ...(parts.page ?? { size: 2 }), cursor };
      const error = await rejection(users.list(principal, query({ ...parts, page })));
      expect([error.part, error.code, error.options.conflictsWith]).toEqual(['cursor', 'request.invalid_cursor', conflict]);
      expect(error.message).not.toContain('$');
    }
    const offset = await rejection(users.list(principal, query({ filter: inDepartment('R&D'), page: { size: 2, cursor, offset: 1 } })));
    expect([offset.part, offset.code]).toEqual(['offset', 'request.invalid_paging']);
  });
});
