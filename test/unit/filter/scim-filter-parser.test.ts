import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import { MAX_FILTER_DEPTH } from '../../../src/filter/filter-ast.js';
import {
  normaliseScimPath,
  printScimFilter,
  scimPathKey,
  type ScimAttributePath,
  type ScimCompareOperator,
  type ScimFilter,
  type ScimValue,
} from '../../../src/filter/scim-filter-ast.js';
import { ScimFilterError } from '../../../src/filter/scim-filter-errors.js';
import { parseScimFilter, SCIM_FILTER_LIMITS, type ScimFilterLimits } from '../../../src/filter/scim-filter-parser.js';
import { unstorableText } from '../../../src/domain/storable-values.js';
import { CORE, countNodes, ENTERPRISE, scimFilters } from './scim-filter-arbitraries.js';


const path = (text: string): ScimAttributePath => {
  const [attribute, subAttribute] = text.split('.') as [string, string | undefined];
  return subAttribute === undefined ? { attribute } : { attribute, subAttribute };
};
const cmp = (attr: string, op: ScimCompareOperator, value: ScimValue): ScimFilter => ({ kind: 'compare', path: path(attr), op, value });
const eq = (attr: string, value: ScimValue): ScimFilter => cmp(attr, 'eq', value);
const pr = (attr: string): ScimFilter => ({ kind: 'present', path: path(attr) });
const and = (left: ScimFilter, right: ScimFilter): ScimFilter => ({ kind: 'and', left, right });
const or = (left: ScimFilter, right: ScimFilter): ScimFilter => ({ kind: 'or', left, right });
const not = (operand: ScimFilter): ScimFilter => ({ kind: 'not', operand });

/** Parses `input`, expecting a ScimFilterError, and returns it. */
function parseError(input: string, limits: ScimFilterLimits = SCIM_FILTER_LIMITS): ScimFilterError {
  try {
    parseScimFilter(input, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ScimFilterError);
    const scimError = error as ScimFilterError;
    expect(scimError.scimType).toBe('invalidFilter');
    // A fallback for the generic handler: a 400, never a 500.
    expect(scimError).toBeInstanceOf(AppError);
    expect(scimError.status).toBe(400);
    return scimError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseScimFilter', () => {
  it('parses a comparison', () => {
    expect(parseScimFilter('userName eq "bjensen"')).toEqual(eq('userName', 'bjensen'));
  });

  it.each(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const)('parses the %s operator', (op) => {
    expect(parseScimFilter(`title ${op} "x"`)).toEqual(cmp('title', op, 'x'));
    expect(parseScimFilter(`title ${op.toUpperCase()} "x"`)).toEqual(cmp('title', op, 'x'));
  });

  it('parses pr in any case', () => {
    expect(parseScimFilter('title pr')).toEqual(pr('title'));
    expect(parseScimFilter('title PR')).toEqual(pr('title'));
  });

  it('binds and tighter than or', () => {
    expect(parseScimFilter('a eq 1 or b eq 2 and c eq 3')).toEqual(or(eq('a', 1), and(eq('b', 2), eq('c', 3))));
    expect(parseScimFilter('a eq 1 and b eq 2 or c eq 3')).toEqual(or(and(eq('a', 1), eq('b', 2)), eq('c', 3)));
  });

  it('binds not tighter than and', () => {
    expect(parseScimFilter('not (a eq 1) and b eq 2')).toEqual(and(not(eq('a', 1)), eq('b', 2)));
    expect(parseScimFilter('b eq 2 or not(a eq 1 or c pr)')).toEqual(or(eq('b', 2), not(or(eq('a', 1), pr('c')))));
  });

  it('lets parentheses override precedence and keeps redundant ones out of the tree', () => {
    expect(parseScimFilter('(a eq 1 or b eq 2) and c eq 3')).toEqual(and(or(eq('a', 1), eq('b', 2)), eq('c', 3)));
    expect(parseScimFilter('a eq 1 and (b eq 2 and c eq 3)')).toEqual(and(eq('a', 1), and(eq('b', 2), eq('c', 3))));
    expect(parseScimFilter('((a pr))')).toEqual(pr('a'));
  });

  it('associates and/or to the left', () => {
    expect(parseScimFilter('a pr and b pr and c pr')).toEqual(and(and(pr('a'), pr('b')), pr('c')));
    expect(parseScimFilter('a pr or b pr or c pr')).toEqual(or(or(pr('a'), pr('b')), pr('c')));
  });

  it('accepts operators, keywords and literals in any case, keeping attribute names as written', () => {
    expect(parseScimFilter('NOT (UserName EQ "x") And Active Ne TRUE Or x eq NULL')).toEqual(
      or(and(not(eq('UserName', 'x')), cmp('Active', 'ne', true)), eq('x', null)),
    );
  });

  it('exposes a lower-case form of attribute paths for lookups', () => {
    const tree = parseScimFilter(`${ENTERPRISE.toUpperCase()}:Manager.Value eq "x"`) as { path: ScimAttributePath };
    expect(tree.path).toEqual({ uri: ENTERPRISE.toUpperCase(), attribute: 'Manager', subAttribute: 'Value' });
    expect(normaliseScimPath(tree.path)).toEqual({ uri: ENTERPRISE.toLowerCase(), attribute: 'manager', subAttribute: 'value' });
    expect(scimPathKey(tree.path)).toBe(`${ENTERPRISE.toLowerCase()}:manager.value`);
    expect(scimPathKey({ attribute: 'userName' })).toBe('username');
  });

  it('allows any whitespace between tokens, and none around brackets and parentheses', () => {
    expect(parseScimFilter('\t userName\neq\r\n"b"  ')).toEqual(eq('userName', 'b'));
    expect(parseScimFilter('not(a pr)and(b pr)')).toEqual(and(not(pr('a')), pr('b')));
    expect(parseScimFilter('emails[ type eq "work" ]')).toEqual(parseScimFilter('emails[type eq "work"]'));
  });

  it('parses sub-attributes', () => {
    expect(parseScimFilter('name.familyName co "O\'Malley"')).toEqual(cmp('name.familyName', 'co', "O'Malley"));
    expect(parseScimFilter('members.$ref eq "x"')).toEqual(cmp('members.$ref', 'eq', 'x'));
  });

  it('parses URN-qualified attributes, splitting at the last colon', () => {
    expect(parseScimFilter(`${ENTERPRISE}:employeeNumber eq "42"`)).toEqual({ kind: 'compare', path: { uri: ENTERPRISE, attribute: 'employeeNumber' }, op: 'eq', value: '42' });
    expect(parseScimFilter(`${ENTERPRISE}:manager.value eq "m"`)).toEqual({
      kind: 'compare',
      path: { uri: ENTERPRISE, attribute: 'manager', subAttribute: 'value' },
      op: 'eq',
      value: 'm',
    });
    expect(parseScimFilter(`${CORE}:name.familyName co "O'Malley"`)).toEqual({
      kind: 'compare',
      path: { uri: CORE, attribute: 'name', subAttribute: 'familyName' },
      op: 'co',
      value: "O'Malley",
    });
    expect(parseScimFilter('urn:okta:custom:1.0:user:costCenter-2 pr')).toEqual({ kind: 'present', path: { uri: 'urn:okta:custom:1.0:user', attribute: 'costCenter-2' } });
  });

  it('parses value paths with a nested filter', () => {
    expect(parseScimFilter('emails[type eq "work" and primary eq true]')).toEqual({
      kind: 'valuePath',
      path: { attribute: 'emails' },
      filter: and(eq('type', 'work'), eq('primary', true)),
    });
    expect(parseScimFilter(`${CORE}:emails[not (type eq "home")]`)).toEqual({
      kind: 'valuePath',
      path: { uri: CORE, attribute: 'emails' },
      filter: not(eq('type', 'home')),
    });
  });

  it('parses a value path followed by a sub-attribute and an operator', () => {
    expect(parseScimFilter('emails[type eq "work"].value eq "x@example.com"')).toEqual({
      kind: 'compare',
      path: { attribute: 'emails', subAttribute: 'value' },
      valueFilter: eq('type', 'work'),
      op: 'eq',
      value: 'x@example.com',
    });
    expect(parseScimFilter('addresses[type eq "work" or primary eq true].postalCode pr')).toEqual({
      kind: 'present',
      path: { attribute: 'addresses', subAttribute: 'postalCode' },
      valueFilter: or(eq('type', 'work'), eq('primary', true)),
    });
  });

  it('treats a word "not" that is followed by an operator as an attribute name', () => {
    expect(parseScimFilter('not eq 1')).toEqual(eq('not', 1));
    expect(parseScimFilter('not pr and or pr')).toEqual(and(pr('not'), pr('or')));
  });

  describe('what identity providers send', () => {
    it.each([
      ['userName eq "x"', eq('userName', 'x')],
      ['externalId eq "x"', eq('externalId', 'x')],
      ['displayName eq "g"', eq('displayName', 'g')],
      ['meta.lastModified gt "2026-01-01T00:00:00Z"', cmp('meta.lastModified', 'gt', '2026-01-01T00:00:00Z')],
      ['members[value eq "id"]', { kind: 'valuePath', path: { attribute: 'members' }, filter: eq('value', 'id') }],
      ['emails[type eq "work"].value eq "x"', { kind: 'compare', path: { attribute: 'emails', subAttribute: 'value' }, valueFilter: eq('type', 'work'), op: 'eq', value: 'x' }],
      // The Entra and Okta connection tests: a random name that matches nobody.
      ['userName eq "9f1c2d3e-0b4a-4c5d-8e6f-7a8b9c0d1e2f"', eq('userName', '9f1c2d3e-0b4a-4c5d-8e6f-7a8b9c0d1e2f')],
      ['id eq "2819c223-7f76-453a-919d-413861904646" and members[value eq "u1"]', and(eq('id', '2819c223-7f76-453a-919d-413861904646'), { kind: 'valuePath', path: { attribute: 'members' }, filter: eq('value', 'u1') })],
    ] as const)('%s', (input, tree) => {
      expect(parseScimFilter(input)).toEqual(tree);
    });
  });

  describe('the examples of RFC 7644 §3.4.2.2', () => {
    it.each([
      'userName Eq "john"',
      'name.familyName co "O\'Malley"',
      'userName sw "J"',
      `${CORE}:userName sw "J"`,
      'title pr',
      'meta.lastModified gt "2011-05-13T04:42:34Z"',
      'meta.lastModified ge "2011-05-13T04:42:34Z"',
      'meta.lastModified lt "2011-05-13T04:42:34Z"',
      'meta.lastModified le "2011-05-13T04:42:34Z"',
      'title pr and userType eq "Employee"',
      'title pr or userType eq "Intern"',
      'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
      'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
      'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
      'userType eq "Employee" and (emails.type eq "work")',
      'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
      'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
    ])('%s', (input) => {
      const tree = parseScimFilter(input);
      // Printing and parsing again gives the same tree, and the printer leaves only the needed parentheses.
      expect(parseScimFilter(printScimFilter(tree))).toEqual(tree);
    });

    it('reads the nested example exactly', () => {
      expect(parseScimFilter('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")')).toEqual(
        and(cmp('userType', 'ne', 'Employee'), not(or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org')))),
      );
    });
  });

  describe('values', () => {
    it.each([
      ['"it\\"s"', 'it"s'],
      ['"back\\\\slash"', 'back\\slash'],
      ['"\\/"', '/'],
      ['"\\b\\f\\n\\r\\t"', '\b\f\n\r\t'],
      ['"Zo\\u00e9"', 'Zoé'],
      ['"\\u00E9"', 'é'],
      ['"\\ud83d\\ude00"', '😀'],
      ['"Zoë 🙂"', 'Zoë 🙂'],
      ['""', ''],
      ['"eq and or ( ) [ ] . : \'"', "eq and or ( ) [ ] . : '"],
      ['"x\\" or 1 eq 1"', 'x" or 1 eq 1'],
    ])('reads the string %s', (literal, value) => {
      expect(parseScimFilter(`a eq ${literal}`)).toEqual(eq('a', value));
    });

    it.each([
      ['42', 42],
      ['-7', -7],
      ['0', 0],
      ['-0', 0],
      ['3.25', 3.25],
      ['-1.5e3', -1500],
      ['2.5E-2', 0.025],
      ['1e+2', 100],
      ['9007199254740991', Number.MAX_SAFE_INTEGER],
      ['-9007199254740991', Number.MIN_SAFE_INTEGER],
      ['1.7976931348623157e308', Number.MAX_VALUE],
      ['1e400000000000000000000', undefined],
    ])('reads the number %s', (literal, value) => {
      if (value === undefined) {
        expect(parseError(`n eq ${literal}`).message).toContain('out of range');
        return;
      }
      const tree = parseScimFilter(`n eq ${literal}`) as { value: number };
      expect(Object.is(tree.value, value)).toBe(true);
    });

    it('reads true, false and null in any case', () => {
      expect(parseScimFilter('a eq true')).toEqual(eq('a', true));
      expect(parseScimFilter('a eq False')).toEqual(eq('a', false));
      expect(parseScimFilter('a ne NULL')).toEqual(cmp('a', 'ne', null));
    });

    it('keeps dates as strings', () => {
      expect(parseScimFilter('meta.created ge "2011-05-13T04:42:34Z"')).toEqual(cmp('meta.created', 'ge', '2011-05-13T04:42:34Z'));
    });
  });

  describe('errors', () => {
    it.each([
      // [input, message fragment, one-based position]
      ["userName eq 'x'", "Unexpected character ''' at position 13. Text values are JSON strings in double quotes", 13],
      ['userName eq "abc', 'Unterminated string starting at position 13', 13],
      ['userName eq "abc\\', 'Unterminated string starting at position 13', 13],
      ['a eq "x\\q"', "Invalid escape '\\q' at position 8", 8],
      ['a eq "\\u12g4"', "Invalid escape '\\u12g4' at position 7: \\u needs four hexadecimal digits", 7],
      ['a eq "\\u12"', 'four hexadecimal digits', 7],
      ['a eq "tab\there"', 'Unescaped control character U+0009 at position 10 in a string; write it as \\u0009', 10],
      ['a eq "nul\u0000"', 'Unescaped control character U+0000', 10],
      ['a eq "nul\\u0000"', 'The string at position 6 must not contain the NUL character (U+0000)', 6],
      ['a eq "\\ud800"', 'must not contain a lone UTF-16 surrogate (U+D800)', 6],
      ['a eq "\\udc00x"', 'lone UTF-16 surrogate (U+DC00)', 6],
      ['a eq "\ud800"', 'lone UTF-16 surrogate (U+D800)', 6],
      ['a eq \ud800', 'Unexpected character U+D800 at position 6', 6],
      ['a eq 1 @', "Unexpected character '@' at position 8", 8],
      ['userName eq abc', "Expected a value after 'eq' at position 13 (a \"string\", a number, true, false or null), but found 'abc'. Text values go in double quotes, e.g. \"abc\".", 13],
      ['userName eq', 'but found the end of the filter', 12],
      ['userName eq )', "but found ')'", 13],
      ['userName "x"', "Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'userName' at position 10, but found the string \"x\"", 10],
      ['userName equals "x"', "found 'equals'", 10],
      ['userName', 'found the end of the filter', 9],
      ['startswith(displayName)', 'SCIM has no functions: use co, sw or ew', 11],
      ['contains(displayName, "x")', "Unexpected character ',' at position 21. SCIM filters have no functions or lists", 21],
      ['a eq "x" b eq "y"', "Unexpected 'b' at position 10; join conditions with 'and' or 'or'", 10],
      ['title pr "x"', 'Unexpected the string "x" at position 10', 10],
      ['a eq "x" and', 'Expected a condition such as userName eq "jdoe" at position 13, but found the end of the filter', 13],
      ['a eq "x" or or', "Expected an operator", 15],
      ['(a eq "x"', "Expected ')' at position 10 to close the parenthesis opened at position 1, but found the end of the filter", 10],
      ['a eq "x")', "Unexpected ')' at position 9; there is no matching opening parenthesis", 9],
      ['a eq "x"]', "Unexpected ']' at position 9; there is no matching '['", 9],
      ['()', 'Expected a condition such as userName eq "jdoe" at position 2', 2],
      ['1 eq a', "Expected a condition such as userName eq \"jdoe\" at position 1, but found '1'", 1],
      ['"x" eq userName', 'but found the string "x"', 1],
      ['not a eq 1', "'not' at position 1 must be followed by a parenthesised filter, e.g. not (userName eq \"jdoe\")", 1],
      ['not', "'not' at position 1 must be followed", 1],
      ['not (a eq 1', "Expected ')' at position 12 to close the 'not (' opened at position 5", 12],
      ['a eq 01', "Invalid value '01' at position 6: numbers are JSON numbers", 6],
      ['a eq 1.', "Invalid value '1.'", 6],
      ['a eq .5', "Expected a value after 'eq' at position 6", 6],
      ['a eq +1', "Unexpected character '+' at position 6", 6],
      ['a eq 12abc', "Invalid value '12abc'", 6],
      ['a eq -x', "Unexpected character '-' at position 6", 6],
      ['a eq 99999999999999999999', "The number '99999999999999999999' at position 6 is out of range", 6],
      ['a eq 1e999', 'out of range', 6],
      ['a eq -1e999', 'out of range', 6],
      ['name.given.x eq 1', "'name.given.x' at position 1 has more than one sub-attribute", 1],
      ['name. eq 1', "Expected a sub-attribute name after 'name.' at position 6", 6],
      ['name.1x eq 1', "'1x' at position 6 is not a sub-attribute name", 6],
      ['$ref eq 1', "'$ref' at position 1 is not an attribute name", 1],
      ['a$b eq 1', "'a$b' at position 1 is not an attribute name", 1],
      ['foo:bar eq 1', "'foo' at position 1 is not a schema URN; a qualified attribute is written like urn:ietf:params:scim:schemas:core:2.0:User:userName", 1],
      [`${CORE}: eq 1`, "Expected an attribute name after the schema URN", 44],
      [`${CORE}:1x eq 1`, "'1x' at position 44 is not an attribute name", 44],
      ['emails[type eq "work"', "Expected ']' at position 22 to close the value filter of 'emails' opened at position 7", 22],
      ['emails[]', "The value filter of 'emails' at position 7 is empty", 7],
      ['emails[type eq "work"].', "Expected a sub-attribute name at position 24, right after the '.'", 24],
      ['emails[type eq "work"]. value eq 1', "Expected a sub-attribute name at position 24, right after the '.'", 24],
      ['emails[type eq "work"].value', "Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'emails.value' at position 29", 29],
      ['emails[type eq "work"].value.x eq 1', "'value.x' at position 24 is not a sub-attribute name: a value path takes one sub-attribute", 24],
      ['emails[type eq "work"] eq "x"', "Unexpected 'eq' at position 24", 24],
      ['emails[emails.type eq "work"]', "Inside emails[…] name a sub-attribute of emails on its own, such as type or value; 'emails.type' at position 8 is not one", 8],
      ['emails[type[value eq 1] pr]', "Value filters cannot nest: 'type[' at position 12 is inside emails[…]", 12],
      [`emails[${CORE}:type eq "x"]`, 'is not one', 8],
      ['name.givenName[value eq 1]', 'A value filter at position 15 follows the multi-valued attribute itself', 15],
    ])('rejects %j', (input, fragment, position) => {
      const error = parseError(input);
      expect(error.message).toContain(fragment);
      expect(error.position).toBe(position);
      expect(error.message).toContain(`position ${position}`);
    });

    it.each(['', '  \t\r\n'])('rejects the empty filter %j', (input) => {
      const error = parseError(input);
      expect(error.message).toBe('The filter is empty. Write a condition such as userName eq "jdoe".');
      expect(error.position).toBe(1);
    });

    it('never echoes a NUL or a lone surrogate in a message', () => {
      for (const input of ['\ud800 eq 1', 'a eq "\ud800', `a eq ${'x'.repeat(39)}\ud83d\ude00`, 'a eq "\u0000']) {
        expect(unstorableText(parseError(input).message)).toBeUndefined();
      }
    });
  });

  describe('limits', () => {
    it(`rejects input longer than ${SCIM_FILTER_LIMITS.maxLength} characters`, () => {
      const fits = `a eq "${'x'.repeat(SCIM_FILTER_LIMITS.maxLength - 7)}"`;
      expect(fits).toHaveLength(SCIM_FILTER_LIMITS.maxLength);
      expect(parseScimFilter(fits)).toMatchObject({ kind: 'compare' });
      const error = parseError(`${fits} `);
      expect(error.message).toBe('The filter is 4097 characters long; the maximum is 4096.');
      expect(error.position).toBe(1);
    });

    it(`accepts ${MAX_FILTER_DEPTH} levels of parentheses and rejects ${MAX_FILTER_DEPTH + 1}`, () => {
      const nest = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`;
      expect(parseScimFilter(nest(MAX_FILTER_DEPTH))).toEqual(pr('a'));
      const error = parseError(nest(MAX_FILTER_DEPTH + 1));
      expect(error.message).toBe('The filter nests more than 64 levels deep at position 65; simplify it.');
    });

    it(`accepts a tree ${MAX_FILTER_DEPTH} levels deep and rejects one level more`, () => {
      const nots = (n: number) => `${'not ('.repeat(n)}a pr${')'.repeat(n)}`;
      let tree = parseScimFilter(nots(MAX_FILTER_DEPTH - 1));
      for (let i = 0; i < MAX_FILTER_DEPTH - 1; i++) tree = (tree as { operand: ScimFilter }).operand;
      expect(tree).toEqual(pr('a'));
      expect(parseError(nots(MAX_FILTER_DEPTH)).message).toContain('nests more than 64 levels');
      // A value filter counts as a level too.
      expect(parseError(`emails[${nots(MAX_FILTER_DEPTH - 1)}]`).message).toContain('nests more than 64 levels');
    });

    it('counts nodes: 100 are fine, 101 are not', () => {
      const terms = (n: number) => Array.from({ length: n }, (_, i) => `a eq ${i}`).join(' or ');
      expect(() => parseScimFilter(terms(50))).not.toThrow(); // 50 comparisons + 49 ors
      expect(parseError(terms(51)).message).toMatch(/^The filter has more than 100 conditions and operators \(at position \d+\); simplify it\.$/);
    });

    it('fails fast on 100,000 open parentheses or not( without exhausting the stack', () => {
      const unlimited = { ...SCIM_FILTER_LIMITS, maxLength: Number.POSITIVE_INFINITY };
      expect(parseError('('.repeat(100_000), unlimited).message).toContain('nests more than 64 levels deep at position 65');
      expect(parseError('not ('.repeat(100_000), unlimited).message).toContain('nests more than 64 levels');
      expect(parseError(`${'emails['.repeat(100_000)}`, unlimited).message).toContain('Value filters cannot nest');
      // With the default limits the length check answers first.
      expect(parseError('('.repeat(100_000)).message).toContain('the maximum is 4096');
    });

    it('rejects a 100,000-term or chain iteratively, even with no node limit', () => {
      const chain = Array.from({ length: 100_000 }, (_, i) => `a eq ${i}`).join(' or ');
      const unlimited = { maxLength: Number.POSITIVE_INFINITY, maxDepth: MAX_FILTER_DEPTH, maxNodes: Number.POSITIVE_INFINITY };
      expect(parseError(chain, unlimited).message).toContain('nests more than 64 levels');
      expect(parseError(chain, { ...unlimited, maxNodes: 100 }).message).toContain('more than 100 conditions');
    });
  });

  it('never throws anything but a ScimFilterError with a position inside the input', () => {
    const pieces = ['a', 'b.c', 'emails', '[', ']', '.', ' eq ', ' pr', ' and ', ' or ', 'not ', '(', ')', '"x"', '"', '\\', '\\u', '1', '-', '1e999', 'null', ' ', '\u0000', '\ud800', 'urn:a:b:', ':', '$ref', "'", 'e'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 14 }), (parts) => {
        const input = parts.join('');
        try {
          parseScimFilter(input);
        } catch (error) {
          expect(error, input).toBeInstanceOf(ScimFilterError);
          const position = (error as ScimFilterError).position ?? 0;
          expect(position).toBeGreaterThanOrEqual(1);
          expect(position).toBeLessThanOrEqual(input.length + 1);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('printScimFilter', () => {
  it('prints only the parentheses the tree needs', () => {
    expect(printScimFilter(and(or(pr('a'), pr('b')), and(pr('c'), pr('d'))))).toBe('(a pr or b pr) and (c pr and d pr)');
    expect(printScimFilter(or(and(pr('a'), pr('b')), not(pr('c'))))).toBe('a pr and b pr or not (c pr)');
    expect(printScimFilter(eq('n', 2 ** 60))).toBe('n eq 1.152921504606847e+18');
    expect(printScimFilter(eq('s', 'a"\\\u0001'))).toBe('s eq "a\\"\\\\\\u0001"');
  });

  it('prints any tree so that parsing gives the same tree back', () => {
    fc.assert(
      fc.property(scimFilters.filter((tree) => countNodes(tree) <= SCIM_FILTER_LIMITS.maxNodes), (tree) => {
        const text = printScimFilter(tree);
        expect(parseScimFilter(text), text).toEqual(tree);
      }),
      { numRuns: 2000 },
    );
  });
});
