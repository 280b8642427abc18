import { describe, expect, it } from 'vitest';
import type { SortTerm } from '../../../src/domain/list-query.js';
import { AppError } from '../../../src/errors/app-error.js';
import type { QueryError } from '../../../src/errors/query-error.js';
import { parseODataOrderBy } from '../../../src/filter/orderby-parser.js';
import { resolveSort, type SortableField } from '../../../src/filter/sort-keys.js';

/** What the OData adapter and the repository do together: parse the syntax, then resolve names. */
const parseOrderBy = (input: string | undefined, sortable: Record<string, SortableField>, defaults?: SortTerm[]) =>
  resolveSort(parseODataOrderBy(input), sortable, defaults);

const sortable: Record<string, SortableField> = {
  familyName: { column: 'users.family_name', type: 'string' },
  givenName: { column: 'users.given_name', type: 'string' },
  userName: { column: 'users.user_name_lower', type: 'string', nullable: false },
  createdAt: { column: 'users.created_at', type: 'datetime', nullable: false },
  department: { column: 'users.department', type: 'string' },
  title: { column: 'users.title', type: 'string' },
};

function orderByError(input: string): AppError {
  try {
    parseOrderBy(input, sortable);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('request.invalid_orderby');
    return error as AppError;
  }
  throw new Error(`expected ${input} to be rejected`);
}

describe('parseOrderBy', () => {
  it('parses fields with and without directions', () => {
    expect(parseOrderBy('familyName desc, givenName', sortable)).toEqual([
      { field: 'familyName', column: 'users.family_name', type: 'string', direction: 'desc', nullable: true },
      { field: 'givenName', column: 'users.given_name', type: 'string', direction: 'asc', nullable: true },
    ]);
  });

  it('accepts directions in any case and extra whitespace', () => {
    expect(parseOrderBy('  createdAt   DESC ,userName Asc ', sortable).map((k) => [k.field, k.direction, k.nullable])).toEqual([
      ['createdAt', 'desc', false],
      ['userName', 'asc', false],
    ]);
  });

  it('uses the defaults when $orderby is absent or blank', () => {
    const defaults: SortTerm[] = [{ field: 'userName', direction: 'asc' }, { field: 'createdAt', direction: 'desc' }];
    for (const input of [undefined, '', '   ']) {
      expect(parseOrderBy(input, sortable, defaults).map((k) => `${k.field} ${k.direction}`)).toEqual(['userName asc', 'createdAt desc']);
    }
    expect(parseOrderBy(undefined, sortable)).toEqual([]);
  });

  it('treats a default naming an unsortable field as a programming error', () => {
    expect(() => parseOrderBy(undefined, sortable, [{ field: 'nope', direction: 'asc' }])).toThrow(/not in the sortable map/);
  });

  it.each([
    ['nope', "Cannot sort by 'nope'. Allowed: familyName, givenName, userName, createdAt, department, title."],
    ['familyname desc', "Did you mean 'familyName'?"],
    ['familyName sideways', "Unknown sort direction 'sideways'"],
    ['familyName desc asc', "Cannot read sort term 'familyName desc asc'"],
    ['familyName,,givenName', 'Sort term 2 of $orderby is empty'],
    ['familyName,', 'Sort term 2 of $orderby is empty'],
    ['familyName, familyName desc', "'familyName' appears more than once"],
    ['familyName,givenName,userName,createdAt,department,title', 'at most 5 fields'],
    ["familyName'; drop table users", 'Cannot read sort term'],
    ['constructor', "Cannot sort by 'constructor'"],
    [`familyName ${' '.repeat(600)}`, 'maximum is 512'],
  ])('rejects %j', (input, fragment) => {
    expect(orderByError(input).message).toContain(fragment);
  });

  it('allows exactly 5 keys', () => {
    expect(parseOrderBy('familyName,givenName,userName,createdAt,department', sortable)).toHaveLength(5);
  });

  it('lets the OData parser name $orderby, while whitelist errors name only the sort part', () => {
    const syntax = orderByError('familyName sideways') as QueryError;
    expect([syntax.part, syntax.options.parameter]).toEqual(['sort', '$orderby']);
    const unknown = orderByError('nope') as QueryError;
    expect([unknown.part, unknown.options.parameter]).toEqual(['sort', undefined]);
    expect(unknown.message).not.toContain('$');
  });

  it('parses syntax only, leaving names to the whitelist', () => {
    expect(parseODataOrderBy('whatever desc, other')).toEqual([
      { field: 'whatever', direction: 'desc' },
      { field: 'other', direction: 'asc' },
    ]);
  });
});
