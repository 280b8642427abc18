import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import type { FilterNode, Literal } from '../../../src/filter/filter-ast.js';
import { FILTER_LIMITS, parseODataFilter } from '../../../src/filter/odata-filter-parser.js';

const str = (value: string): Literal => ({ type: 'string', value });
const num = (value: number): Literal => ({ type: 'number', value });
const eq = (field: string, value: Literal): FilterNode => ({ kind: 'compare', op: 'eq', path: field.split('/'), value });

function parseError(input: string): AppError {
  try {
    parseODataFilter(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.code).toBe('request.invalid_filter');
    expect(appError.errors?.[0]?.field).toBe('$filter');
    return appError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseODataFilter', () => {
  it('parses a comparison', () => {
    expect(parseODataFilter("userName eq 'jdoe'")).toEqual(eq('userName', str('jdoe')));
  });

  it.each(['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const)('parses the %s operator', (op) => {
    expect(parseODataFilter(`version ${op} 3`)).toEqual({ kind: 'compare', op, path: ['version'], value: num(3) });
  });

  it('binds and tighter than or', () => {
    expect(parseODataFilter('a eq 1 or b eq 2 and c eq 3')).toEqual({
      kind: 'or',
      left: eq('a', num(1)),
      right: { kind: 'and', left: eq('b', num(2)), right: eq('c', num(3)) },
    });
  });

  it('binds not tighter than and, and comparisons tighter than not', () => {
    expect(parseODataFilter('not a eq 1 and b eq 2')).toEqual({
      kind: 'and',
      left: { kind: 'not', operand: eq('a', num(1)) },
      right: eq('b', num(2)),
    });
  });

  it('lets parentheses override precedence', () => {
    expect(parseODataFilter('(a eq 1 or b eq 2) and c eq 3')).toEqual({
      kind: 'and',
      left: { kind: 'or', left: eq('a', num(1)), right: eq('b', num(2)) },
      right: eq('c', num(3)),
    });
  });

  it('associates and/or to the left', () => {
    expect(parseODataFilter('a eq 1 and b eq 2 and c eq 3')).toEqual({
      kind: 'and',
      left: { kind: 'and', left: eq('a', num(1)), right: eq('b', num(2)) },
      right: eq('c', num(3)),
    });
  });

  it('accepts operators and keywords in any case but keeps field names as written', () => {
    expect(parseODataFilter("NOT UserName EQ 'x' AND Active Ne TRUE Or x eq NULL")).toEqual({
      kind: 'or',
      left: {
        kind: 'and',
        left: { kind: 'not', operand: eq('UserName', str('x')) },
        right: { kind: 'compare', op: 'ne', path: ['Active'], value: { type: 'boolean', value: true } },
      },
      right: eq('x', { type: 'null' }),
    });
  });

  it('allows any whitespace between tokens', () => {
    expect(parseODataFilter("\t a\neq\r\n'b'  ")).toEqual(eq('a', str('b')));
    expect(parseODataFilter("(a eq 'b')")).toEqual(parseODataFilter("( a eq 'b' )"));
  });

  it.each([
    ["'it''s'", "it's"],
    ["''''", "'"],
    ["''", ''],
    ["'a''''b'", "a''b"],
    ["'eq and or ( ) , / :'", 'eq and or ( ) , / :'],
    ["'\\'", '\\'],
    ["'Zoë 🙂'", 'Zoë 🙂'],
  ])('reads the string literal %s', (literal, value) => {
    expect(parseODataFilter(`a eq ${literal}`)).toEqual(eq('a', str(value)));
  });

  it('reads an injection attempt as one string literal', () => {
    expect(parseODataFilter("userName eq 'x'' or 1 eq 1'")).toEqual(eq('userName', str("x' or 1 eq 1")));
    expect(parseODataFilter("userName eq 'x''); drop table users; --'")).toEqual(eq('userName', str("x'); drop table users; --")));
  });

  it.each([
    ['42', 42],
    ['-7', -7],
    ['0', 0],
    ['3.25', 3.25],
    ['-0.5', -0.5],
    ['1e3', 1000],
    ['2.5E-2', 0.025],
  ])('reads the number %s', (literal, value) => {
    expect(parseODataFilter(`n eq ${literal}`)).toEqual(eq('n', num(value)));
  });

  it('reads booleans and null', () => {
    expect(parseODataFilter('a eq true')).toEqual(eq('a', { type: 'boolean', value: true }));
    expect(parseODataFilter('a eq False')).toEqual(eq('a', { type: 'boolean', value: false }));
    expect(parseODataFilter('a eq null')).toEqual(eq('a', { type: 'null' }));
  });

  it.each([
    ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000Z'],
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
    ['2024-02-29T23:30:00+02:00', '2024-02-29T21:30:00.000Z'],
    ['2024-06-30T10:00Z', '2024-06-30T10:00:00.000Z'],
    ['2024-06-30T10:00:00.123456Z', '2024-06-30T10:00:00.123Z'],
    ['2024-12-31T23:00:00-05:00', '2025-01-01T04:00:00.000Z'],
  ])('normalises the date-time %s', (literal, iso) => {
    expect(parseODataFilter(`t gt ${literal}`)).toEqual({ kind: 'compare', op: 'gt', path: ['t'], value: { type: 'datetime', value: iso } });
  });

  it('reads a guid and lowercases it', () => {
    expect(parseODataFilter('id eq 0190A0B2-8D3E-7C4F-9A1B-2C3D4E5F6A7B')).toEqual(
      eq('id', { type: 'guid', value: '0190a0b2-8d3e-7c4f-9a1b-2c3d4e5f6a7b' }),
    );
    expect(parseODataFilter('id eq deadbeef-0000-4000-8000-000000000000')).toEqual(
      eq('id', { type: 'guid', value: 'deadbeef-0000-4000-8000-000000000000' }),
    );
  });

  it('parses in lists', () => {
    expect(parseODataFilter("dept in ('a', 'b',null, 3)")).toEqual({
      kind: 'in',
      path: ['dept'],
      values: [str('a'), str('b'), { type: 'null' }, num(3)],
    });
  });

  it.each(['contains', 'startswith', 'endswith'] as const)('parses %s()', (name) => {
    expect(parseODataFilter(`${name}(displayName,'Ab')`)).toEqual({ kind: 'function', name, path: ['displayName'], value: 'Ab' });
  });

  it('accepts function names in any case and folds a comparison with true/false', () => {
    const call: FilterNode = { kind: 'function', name: 'startswith', path: ['a'], value: 'x' };
    expect(parseODataFilter("StartsWith(a,'x')")).toEqual(call);
    expect(parseODataFilter("startswith(a,'x') eq true")).toEqual(call);
    expect(parseODataFilter("startswith(a,'x') ne false")).toEqual(call);
    expect(parseODataFilter("startswith(a,'x') eq false")).toEqual({ kind: 'not', operand: call });
    expect(parseODataFilter("not startswith(a,'x') and b eq 1")).toEqual({ kind: 'and', left: { kind: 'not', operand: call }, right: eq('b', num(1)) });
  });

  it('parses multi-segment paths', () => {
    expect(parseODataFilter("attributes/costCenter eq 'CC1'")).toEqual(eq('attributes/costCenter', str('CC1')));
  });

  it('parses lambdas over collections and primitive arrays', () => {
    expect(parseODataFilter("externalIds/any(e: e/origin eq 'hr' and e/key eq '1')")).toEqual({
      kind: 'any',
      path: ['externalIds'],
      variable: 'e',
      predicate: { kind: 'and', left: eq('e/origin', str('hr')), right: eq('e/key', str('1')) },
    });
    expect(parseODataFilter("tags/any(t:t eq 'x' or contains(t,'y')) and not tags/any(t: t eq 'z')")).toEqual({
      kind: 'and',
      left: {
        kind: 'any',
        path: ['tags'],
        variable: 't',
        predicate: { kind: 'or', left: eq('t', str('x')), right: { kind: 'function', name: 'contains', path: ['t'], value: 'y' } },
      },
      right: { kind: 'not', operand: { kind: 'any', path: ['tags'], variable: 't', predicate: eq('t', str('z')) } },
    });
  });

  it('treats a field called any as a field when no lambda follows', () => {
    expect(parseODataFilter("attributes/any eq 'x'")).toEqual(eq('attributes/any', str('x')));
  });

  it.each([
    ["userName eq 'abc", 'Unterminated text value starting at position 13'],
    ["userName eq 'it''s", 'Unterminated'],
    ['userName eq abc', 'position 13'],
    ["userName eq 'a' @", "Unexpected character '@' at position 17"],
    ['userName "x"', "Unexpected character '\"'"],
    ["userName 'x'", 'Expected an operator'],
    ["userName equals 'x'", "found 'equals'"],
    ["a eq 'x' b eq 'y'", "join conditions with 'and' or 'or'"],
    ["a eq 'x' and", 'found the end of the filter'],
    ["(a eq 'x'", "Expected ')' to close the parenthesis opened at position 1"],
    ["a eq 'x')", 'no matching opening parenthesis'],
    ['()', 'Expected a condition'],
    ["1 eq a", 'Expected a condition'],
    ["'x' eq userName", "found the text 'x'."],
    ["substringof('x',a)", "Unsupported function 'substringof'"],
    ["contains(a, 1)", 'quoted text value'],
    ["contains(a 'x')", 'comma'],
    ["contains('x', a)", 'Expected a field name'],
    ['a in ()', 'Expected a value'],
    ["a in 'x'", 'parenthesised list'],
    ["a in ('x' 'y')", 'closing parenthesis'],
    ['tags/any()', 'any() needs a condition'],
    ["tags/all(t: t eq 'x')", 'all() is not supported'],
    ["tags/any(t t eq 'x')", 'colon'],
    ["tags/any(t: t eq 'x'", 'closing parenthesis of tags/any'],
    ['a eq 2024-13-01', "Invalid date/time '2024-13-01'"],
    ['a eq 2023-02-29', 'Invalid date/time'],
    ['a eq 2024-01-01T25:00:00Z', 'Invalid date/time'],
    ['a eq 2024-01-01T10:00:00', 'time zone'],
    ['a eq 99999999999999999999', 'out of range'],
    ['a eq 1e999', 'out of range'],
    ['a eq 1.', "Invalid value '1.'"],
    ['a eq 12abc', "Invalid value '12abc'"],
    ['a eq -x', "Unexpected character '-'"],
    [`${'x'.repeat(65)} eq 1`, 'longer than 64 characters'],
    ['a/(b) eq 1', 'Expected a field name at position 3'],
    ['', 'The filter is empty'],
    ['   ', 'The filter is empty'],
  ])('rejects %j', (input, fragment) => {
    expect(parseError(input).message).toContain(fragment);
  });

  describe('limits', () => {
    it(`rejects input longer than ${FILTER_LIMITS.maxLength} characters`, () => {
      const long = `a eq '${'x'.repeat(FILTER_LIMITS.maxLength)}'`;
      expect(parseError(long).message).toContain('maximum is 4096');
    });

    it('accepts 32 levels of nesting and rejects 33', () => {
      const nest = (n: number) => `${'('.repeat(n)}a eq 1${')'.repeat(n)}`;
      expect(parseODataFilter(nest(32))).toEqual(eq('a', num(1)));
      expect(parseError(nest(33)).message).toContain('more than 32 levels');
      expect(parseError(`${'not '.repeat(40)}a eq 1`).message).toContain('more than 32 levels');
    });

    it('fails fast on thousands of open parentheses without exhausting the stack', () => {
      expect(parseError('('.repeat(4000)).message).toContain('more than 32 levels');
    });

    it('counts nodes: 100 are fine, 101 are not', () => {
      const terms = (n: number) => Array.from({ length: n }, (_, i) => `a eq ${i}`).join(' or ');
      expect(() => parseODataFilter(terms(50))).not.toThrow(); // 50 comparisons + 49 ors
      expect(parseError(terms(51)).message).toContain('more than 100 conditions');
    });

    it('allows 100 values in an in list but not 101', () => {
      const list = (n: number) => `a in (${Array.from({ length: n }, (_, i) => i).join(',')})`;
      expect(parseODataFilter(list(100))).toMatchObject({ kind: 'in' });
      expect(parseError(list(101)).message).toContain('at most 100 values');
    });
  });

  it('never throws anything but an AppError on random input', () => {
    const pieces = ['a', 'b/c', ' eq ', ' and ', ' or ', 'not ', '(', ')', "'x'", "'", "''", ',', ':', '/', 'any(', 'in ', '1', '-', '2024-01-01', 'contains(', 'null', ' ', '\u0000', '\\', '%', 'e', 'x/any(y: y'];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const input = Array.from({ length: 1 + Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      try {
        parseODataFilter(input);
      } catch (error) {
        expect(error, input).toBeInstanceOf(AppError);
      }
    }
  });
});
