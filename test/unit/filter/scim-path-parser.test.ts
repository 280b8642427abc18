import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FILTER_DEPTH } from '../../../src/filter/filter-ast.js';
import { printScimPath, scimPathKey, type ScimFilter, type ScimPatchPath } from '../../../src/filter/scim-filter-ast.js';
import { ScimFilterError } from '../../../src/filter/scim-filter-errors.js';
import { SCIM_FILTER_LIMITS } from '../../../src/filter/scim-filter-parser.js';
import { parseScimPath } from '../../../src/filter/scim-path-parser.js';
import { CORE, countNodes, ENTERPRISE, scimPatchPaths } from './scim-filter-arbitraries.js';

const eq = (attribute: string, value: string | boolean): ScimFilter => ({ kind: 'compare', path: { attribute }, op: 'eq', value });

function pathError(input: string): ScimFilterError {
  try {
    parseScimPath(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ScimFilterError);
    const scimError = error as ScimFilterError;
    expect(scimError.scimType).toBe('invalidPath');
    expect(scimError.status).toBe(400);
    return scimError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseScimPath', () => {
  it.each<[string, ScimPatchPath]>([
    ['members', { attribute: 'members' }],
    ['active', { attribute: 'active' }],
    ['name.givenName', { attribute: 'name', subAttribute: 'givenName' }],
    ['members.$ref', { attribute: 'members', subAttribute: '$ref' }],
    ['emails[type eq "work"].value', { attribute: 'emails', valueFilter: eq('type', 'work'), subAttribute: 'value' }],
    ['members[value eq "2819c223"]', { attribute: 'members', valueFilter: eq('value', '2819c223') }],
    [
      'emails[type eq "work" and primary eq true]',
      { attribute: 'emails', valueFilter: { kind: 'and', left: eq('type', 'work'), right: eq('primary', true) } },
    ],
    [
      'members[value eq "a" or value eq "b"]',
      { attribute: 'members', valueFilter: { kind: 'or', left: eq('value', 'a'), right: eq('value', 'b') } },
    ],
    ['addresses[type eq "work"].streetAddress', { attribute: 'addresses', valueFilter: eq('type', 'work'), subAttribute: 'streetAddress' }],
    [`${ENTERPRISE}:manager`, { uri: ENTERPRISE, attribute: 'manager' }],
    [`${ENTERPRISE}:manager.value`, { uri: ENTERPRISE, attribute: 'manager', subAttribute: 'value' }],
    [`${ENTERPRISE}:employeeNumber`, { uri: ENTERPRISE, attribute: 'employeeNumber' }],
    [`${CORE}:userName`, { uri: CORE, attribute: 'userName' }],
    [`${CORE}:name.familyName`, { uri: CORE, attribute: 'name', subAttribute: 'familyName' }],
    [`${CORE}:emails[type eq "work"].value`, { uri: CORE, attribute: 'emails', valueFilter: eq('type', 'work'), subAttribute: 'value' }],
    // Entra's custom extension attributes.
    [
      'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:extension_9d98ed114c4840d298fad781915f27e4_costCenter',
      { uri: 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User', attribute: 'extension_9d98ed114c4840d298fad781915f27e4_costCenter' },
    ],
    [' \tmembers ', { attribute: 'members' }],
  ])('parses %s', (input, path) => {
    expect(parseScimPath(input)).toEqual(path);
    expect(parseScimPath(printScimPath(path))).toEqual(path);
  });

  it('keeps names as written and operators in any case', () => {
    const path = parseScimPath('Members[Value EQ "x"]');
    expect(path).toEqual({ attribute: 'Members', valueFilter: eq('Value', 'x') });
    expect(scimPathKey(path)).toBe('members');
    expect(scimPathKey(parseScimPath(`${ENTERPRISE}:Manager.Value`))).toBe(`${ENTERPRISE.toLowerCase()}:manager.value`);
  });

  it('reads a bare schema URN as attribute and URI for the adapter to recognise', () => {
    expect(parseScimPath(ENTERPRISE)).toEqual({ uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attribute: 'User' });
    expect(scimPathKey(parseScimPath(ENTERPRISE))).toBe(ENTERPRISE.toLowerCase());
  });

  it.each([
    // [input, message fragment, one-based position]
    ['members[value eq "x"', "Expected ']' at position 21 to close the value filter of 'members' opened at position 8, but found the end of the path", 21],
    ['members[value eq ]', "Expected a value after 'eq' at position 18", 18],
    ['members[]', "The value filter of 'members' at position 8 is empty", 8],
    ['members[value eq "x" and]', 'Expected a condition such as value eq "x" at position 25', 25],
    ["members[value eq 'x']", "Unexpected character ''' at position 18. Text values are JSON strings in double quotes", 18],
    ['members[value eq "x"] and x pr', "Unexpected 'and' at position 23; a path ends after its attribute, its value filter or the sub-attribute that follows it", 23],
    ['userName eq "x"', "Unexpected 'eq' at position 10; a path ends", 10],
    ['x y', "Unexpected 'y' at position 3", 3],
    ['name.', "Expected a sub-attribute name after 'name.' at position 6", 6],
    ['name.givenName.x', "has more than one sub-attribute", 1],
    ['foo:bar', "'foo' at position 1 is not a schema URN", 1],
    [`${ENTERPRISE}:`, 'Expected an attribute name after the schema URN', 60],
    ['emails[type eq "work"].value.x', "'value.x' at position 24 is not a sub-attribute name", 24],
    ['emails[type eq "work"].', "Expected a sub-attribute name at position 24, right after the '.'", 24],
    ['emails[type eq "work"]]', "Unexpected ']' at position 23; there is no matching '['", 23],
    ['name.givenName[value eq "x"]', 'A value filter at position 15 follows the multi-valued attribute itself', 15],
    ['members[value[x eq 1] pr]', "Value filters cannot nest: 'value[' at position 14 is inside members[…]", 14],
    ['members[display.x eq 1]', "Inside members[…] name a sub-attribute of members on its own", 9],
    ['"members"', "Expected an attribute name such as userName at position 1, but found the string \"members\"", 1],
    ['(members)', "Expected an attribute name such as userName at position 1, but found '('", 1],
    ['[value eq 1]', "Expected an attribute name such as userName at position 1, but found '['", 1],
    ['1members', "Invalid value '1members' at position 1", 1],
    ['members[value eq "\\u0000"]', 'must not contain the NUL character', 18],
  ])('rejects %j with invalidPath', (input, fragment, position) => {
    const error = pathError(input);
    expect(error.message).toContain(fragment);
    expect(error.position).toBe(position);
    expect(error.message).toContain(`position ${position}`);
  });

  it('rejects an empty path, a long one and a deep one', () => {
    expect(pathError('').message).toBe('The path is empty. Write an attribute path such as name.givenName or emails[type eq "work"].value.');
    expect(pathError(' ').position).toBe(1);
    expect(pathError(`members[value eq "${'x'.repeat(SCIM_FILTER_LIMITS.maxLength)}"]`).message).toContain('the maximum is 4096');
    const deep = `members[${'('.repeat(MAX_FILTER_DEPTH)}value pr${')'.repeat(MAX_FILTER_DEPTH)}]`;
    expect(pathError(deep).message).toContain('The path nests more than 64 levels deep');
  });

  it('prints any path so that parsing gives the same path back', () => {
    fc.assert(
      fc.property(
        scimPatchPaths.filter((path) => path.valueFilter === undefined || countNodes(path.valueFilter) <= SCIM_FILTER_LIMITS.maxNodes),
        (path) => {
          const text = printScimPath(path);
          expect(parseScimPath(text), text).toEqual(path);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
