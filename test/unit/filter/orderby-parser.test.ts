import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import { parseOrderBy, type SortableField } from '../../../src/filter/orderby-parser.js';

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
    const defaults = [{ field: 'userName' }, { field: 'createdAt', direction: 'desc' as const }];
    for (const input of [undefined, '', '   ']) {
      expect(parseOrderBy(input, sortable, defaults).map((k) => `${k.field} ${k.direction}`)).toEqual(['userName asc', 'createdAt desc']);
    }
    expect(parseOrderBy(undefined, sortable)).toEqual([]);
  });

  it('treats a default naming an unsortable field as a programming error', () => {
    expect(() => parseOrderBy(undefined, sortable, [{ field: 'nope' }])).toThrow(/not in the sortable map/);
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

  it('names $orderby as the offending parameter', () => {
    expect(orderByError('nope').errors?.[0]?.field).toBe('$orderby');
  });
});
