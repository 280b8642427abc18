import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import { parseExpand, parseSelect } from '../../../src/filter/expand-parser.js';

const relations = {
  position: { selectable: ['id', 'name', 'code'] },
  area: { selectable: ['id', 'name'] },
  groups: { selectable: ['id', 'name', 'description'] },
};

function rejected(fn: () => unknown, code: string): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(code);
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

describe('parseExpand', () => {
  it('parses plain names and nested $select', () => {
    expect(parseExpand('position($select=name),area($select=name,id),groups', relations)).toEqual([
      { name: 'position', select: ['name'] },
      { name: 'area', select: ['name', 'id'] },
      { name: 'groups' },
    ]);
  });

  it('tolerates whitespace and $select in any case', () => {
    expect(parseExpand(' position ( $SELECT = name , code ) , groups ', relations)).toEqual([
      { name: 'position', select: ['name', 'code'] },
      { name: 'groups' },
    ]);
  });

  it('returns nothing for an absent or blank $expand', () => {
    expect(parseExpand(undefined, relations)).toEqual([]);
    expect(parseExpand('  ', relations)).toEqual([]);
  });

  it('expands $select=* to every selectable field', () => {
    expect(parseExpand('area($select=*)', relations)).toEqual([{ name: 'area', select: ['id', 'name'] }]);
  });

  it.each([
    ['manager', "Cannot expand 'manager'. Allowed: position, area, groups."],
    ['Position', "Did you mean 'position'?"],
    ['position($filter=name eq 1)', "'$filter' inside position(...) is not supported; only $select is"],
    ['position($expand=area)', "'$expand' inside position(...) is not supported"],
    ['position($select=name;$top=1)', "'$top' inside position(...) is not supported"],
    ['position($select=name;$select=id)', '$select appears more than once'],
    ['position($select=salary)', "In position(...): Cannot select 'salary'. Allowed: id, name, code."],
    ['position($select=)', 'In position(...): $select is empty'],
    ['position()', 'position() has empty parentheses'],
    ['position(area($select=id))', 'Nested parentheses'],
    ['position($select=name', 'never closed'],
    ['position)', "Unmatched ')'"],
    ['position,position', "'position' appears more than once"],
    ['position,,groups', 'Cannot read'],
    ['position($select=name)x', 'Cannot read'],
    ['constructor', "Cannot expand 'constructor'"],
  ])('rejects %j', (input, fragment) => {
    const error = rejected(() => parseExpand(input, relations), 'request.invalid_expand');
    expect(error.message).toContain(fragment);
    expect(error.errors?.[0]?.field).toBe('$expand');
  });
});

describe('parseSelect', () => {
  const allowed = ['id', 'userName', 'email', 'displayName'];

  it('returns the listed fields without repeats', () => {
    expect(parseSelect('userName, email,userName', allowed)).toEqual(['userName', 'email']);
  });

  it('returns undefined (all fields) for an absent $select or *', () => {
    expect(parseSelect(undefined, allowed)).toBeUndefined();
    expect(parseSelect(' * ', allowed)).toBeUndefined();
    expect(parseSelect('userName,*', allowed)).toBeUndefined();
    expect(parseSelect('*, email', allowed)).toBeUndefined();
    expect(parseExpand('area($select=*,name)', relations)).toEqual([{ name: 'area', select: ['id', 'name'] }]);
  });

  it.each([
    ['', '$select is empty'],
    ['userName,,email', 'empty entry'],
    ['password', "Cannot select 'password'. Allowed: id, userName, email, displayName."],
    ['username', "Did you mean 'userName'?"],
    ['*,password', "Cannot select 'password'"],
  ])('rejects %j', (input, fragment) => {
    const error = rejected(() => parseSelect(input, allowed), 'request.invalid_select');
    expect(error.message).toContain(fragment);
    expect(error.errors?.[0]?.field).toBe('$select');
  });
});
