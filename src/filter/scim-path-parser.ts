import type { ScimPatchPath } from './scim-filter-ast.js';
import { checkText, SCIM_FILTER_LIMITS, ScimParser, type ScimFilterLimits } from './scim-filter-parser.js';
import { PATH_SYNTAX, tokenizeScim } from './scim-filter-tokenizer.js';

/**
 * Parses a PATCH operation's `path` (RFC 7644 §3.5.2: `PATH = attrPath / valuePath [subAttr]`):
 * `members`, `name.givenName`, `members[value eq "2819c223"]`, `emails[type eq "work"].value`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`. The URN is
 * everything before the last ':'. Every error, including one inside the value filter, is a
 * ScimFilterError with scimType 'invalidPath'.
 *
 * A path that is exactly a schema URN (`urn:…:enterprise:2.0:User`, which some clients use to
 * target the whole extension) reads as `{ uri: 'urn:…:enterprise:2.0', attribute: 'User' }`; only
 * the adapter knows its schemas, so it recognises that case with `scimPathKey`.
 */
export function parseScimPath(input: string, limits: ScimFilterLimits = SCIM_FILTER_LIMITS): ScimPatchPath {
  checkText(input, PATH_SYNTAX, limits);
  const parser = new ScimParser(tokenizeScim(input, PATH_SYNTAX), PATH_SYNTAX, limits);
  const first = parser.next();
  const path: ScimPatchPath = parser.parseAttributePath(first, undefined);
  if (parser.peek().kind === '[') {
    path.valueFilter = parser.parseValueFilter(0, path).filter;
    if (parser.peek().kind === '.') path.subAttribute = parser.parseSubAttribute(path);
  }
  parser.expectEnd('a path ends after its attribute, its value filter or the sub-attribute that follows it');
  return path;
}
