import { MAX_FILTER_DEPTH } from './filter-ast.js';
import { echo } from './scim-filter-errors.js';
import {
  SCIM_COMPARE_OPERATORS,
  formatAttributePath,
  type ScimAttributePath,
  type ScimCompareOperator,
  type ScimFilter,
  type ScimValue,
} from './scim-filter-ast.js';
import { describeToken, FILTER_SYNTAX, syntaxError, tokenizeScim, type ScimSyntax, type ScimToken } from './scim-filter-tokenizer.js';

/**
 * Limits that keep a hostile filter from costing more than an ordinary one. `maxLength` counts
 * UTF-16 code units of the decoded parameter (4 KiB of ASCII). `maxDepth` bounds the nesting of
 * parentheses, `not (…)` and value filters as well as the depth of the resulting tree, so the
 * parser never recurses deeper than that and the tree passes the compiler's depth check.
 * `maxNodes` matches the OData parser's, keeping the mapped tree under the cursor validator's bound.
 */
export const SCIM_FILTER_LIMITS = { maxLength: 4096, maxDepth: MAX_FILTER_DEPTH, maxNodes: 100 } as const;

export interface ScimFilterLimits {
  maxLength: number;
  maxDepth: number;
  maxNodes: number;
}

const OPERATORS: ReadonlySet<string> = new Set(SCIM_COMPARE_OPERATORS);
const ATTRNAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
// RFC 7643 names the reference sub-attribute `$ref`, outside its own ATTRNAME grammar.
const REF = /^\$ref$/i;
// RFC 8141: "urn:" NID ":" NSS. The NSS keeps to the characters SCIM schema URNs use.
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[A-Za-z0-9._:-]+$/i;
const EXAMPLE = 'userName eq "jdoe"';

/**
 * Parses a SCIM filter (RFC 7644 §3.4.2.2) into a ScimFilter. Precedence, loosest first: or, and,
 * then `not (…)`, grouping and attribute expressions; and/or associate to the left. Operators and
 * the literals true/false/null are case-insensitive; attribute names keep their spelling.
 * Throws ScimFilterError with scimType 'invalidFilter' and a one-based position.
 */
export function parseScimFilter(input: string, limits: ScimFilterLimits = SCIM_FILTER_LIMITS): ScimFilter {
  const syntax = FILTER_SYNTAX;
  checkText(input, syntax, limits);
  const parser = new ScimParser(tokenizeScim(input, syntax), syntax, limits);
  const { node } = parser.parseOr(0, undefined);
  parser.expectEnd();
  return node;
}

/** The checks every SCIM expression gets before it is tokenised. */
export function checkText(input: string, syntax: ScimSyntax, limits: Pick<ScimFilterLimits, 'maxLength'>): void {
  if (input.length > limits.maxLength) {
    syntaxError(syntax, 0, `The ${syntax.noun} is ${input.length} characters long; the maximum is ${limits.maxLength}.`);
  }
  if (input.trim() === '') {
    const example = syntax.noun === 'filter' ? EXAMPLE : 'name.givenName or emails[type eq "work"].value';
    syntaxError(syntax, 0, `The ${syntax.noun} is empty. Write ${syntax.noun === 'filter' ? 'a condition' : 'an attribute path'} such as ${example}.`);
  }
}

interface Parsed {
  node: ScimFilter;
  /** Levels of the tree under and including `node`. */
  depth: number;
}

/**
 * A recursive-descent parser over the token list, shared by the filter and PATH parsers. It
 * recurses only on '(', 'not (' and '[', after checking the nesting against `maxDepth`; and/or
 * chains are loops, so no input can exhaust the stack.
 */
export class ScimParser {
  private index = 0;
  private nodes = 0;

  constructor(
    private readonly tokens: ScimToken[],
    private readonly syntax: ScimSyntax,
    private readonly limits: ScimFilterLimits,
  ) {}

  /** `parent` is the multi-valued attribute whose value filter is being read, if any. */
  parseOr(nesting: number, parent: ScimAttributePath | undefined): Parsed {
    let left = this.parseAnd(nesting, parent);
    while (this.isWord(this.peek(), 'or')) {
      const op = this.next();
      left = this.logical('or', op, left, this.parseAnd(nesting, parent));
    }
    return left;
  }

  private parseAnd(nesting: number, parent: ScimAttributePath | undefined): Parsed {
    let left = this.parsePrimary(nesting, parent);
    while (this.isWord(this.peek(), 'and')) {
      const op = this.next();
      left = this.logical('and', op, left, this.parsePrimary(nesting, parent));
    }
    return left;
  }

  private parsePrimary(nesting: number, parent: ScimAttributePath | undefined): Parsed {
    const token = this.peek();
    if (token.kind === '(') {
      this.next();
      this.enter(nesting, token);
      const inner = this.parseOr(nesting + 1, parent);
      this.expect(')', `close the parenthesis opened at position ${token.offset + 1}`);
      return inner;
    }
    if (this.isWord(token, 'not') && !this.startsAttributeExpression(1)) {
      this.next();
      const open = this.peek();
      if (open.kind !== '(') {
        syntaxError(this.syntax, token.offset, `'not' at position ${token.offset + 1} must be followed by a parenthesised filter, e.g. not (${EXAMPLE}).`);
      }
      this.next();
      this.enter(nesting, open);
      const inner = this.parseOr(nesting + 1, parent);
      this.expect(')', `close the 'not (' opened at position ${open.offset + 1}`);
      return this.node({ kind: 'not', operand: inner.node }, inner.depth + 1, token);
    }
    if (token.kind === 'word') return this.parseAttributeExpression(nesting, parent);
    const example = parent ? `value eq "x"` : EXAMPLE;
    syntaxError(this.syntax, token.offset, `Expected a condition such as ${example} at position ${token.offset + 1}, but found ${this.describe(token)}.`);
  }

  /** True when the word at `ahead` is an attribute name (e.g. one called "not"), not the `not` operator. */
  private startsAttributeExpression(ahead: number): boolean {
    const next = this.peek(ahead);
    return next.kind === '[' || next.kind === '.' || (next.kind === 'word' && (OPERATORS.has(next.text.toLowerCase()) || next.text.toLowerCase() === 'pr'));
  }

  private parseAttributeExpression(nesting: number, parent: ScimAttributePath | undefined): Parsed {
    const pathToken = this.next();
    const path = this.parseAttributePath(pathToken, parent);
    if (this.peek().kind !== '[') return this.parseOperator(path, undefined, pathToken);
    if (parent) {
      const name = echo(formatAttributePath(parent));
      syntaxError(this.syntax, this.peek().offset, `Value filters cannot nest: '${echo(path.attribute)}[' at position ${this.peek().offset + 1} is inside ${name}[…].`);
    }
    const { filter, depth } = this.parseValueFilter(nesting, path);
    if (this.peek().kind !== '.') return this.node({ kind: 'valuePath', path, filter }, depth + 1, pathToken);
    const full: ScimAttributePath = { ...path, subAttribute: this.parseSubAttribute(path) };
    return this.parseOperator(full, { node: filter, depth }, pathToken);
  }

  /** The `[valFilter]` after a multi-valued attribute, from its '[' to its ']'. */
  parseValueFilter(nesting: number, path: ScimAttributePath): { filter: ScimFilter; depth: number } {
    const open = this.next();
    if (path.subAttribute !== undefined) {
      syntaxError(
        this.syntax,
        open.offset,
        `A value filter at position ${open.offset + 1} follows the multi-valued attribute itself: write ${path.attribute}[…].${path.subAttribute}, not ${path.attribute}.${path.subAttribute}[…].`,
      );
    }
    this.enter(nesting, open);
    const name = echo(formatAttributePath(path));
    if (this.peek().kind === ']') {
      syntaxError(this.syntax, open.offset, `The value filter of '${name}' at position ${open.offset + 1} is empty; write a condition such as ${name}[type eq "work"].`);
    }
    const inner = this.parseOr(nesting + 1, path);
    this.expect(']', `close the value filter of '${name}' opened at position ${open.offset + 1}`);
    return { filter: inner.node, depth: inner.depth };
  }

  /** The `.subAttr` after a value filter's ']'. */
  parseSubAttribute(path: ScimAttributePath): string {
    const dot = this.next();
    const token = this.peek();
    if (token.kind !== 'word' || token.offset !== dot.offset + 1) {
      syntaxError(this.syntax, dot.offset + 1, `Expected a sub-attribute name at position ${dot.offset + 2}, right after the '.', e.g. ${path.attribute}[type eq "work"].value.`);
    }
    this.next();
    if (!ATTRNAME.test(token.text) && !REF.test(token.text)) {
      const why = /[.:]/.test(token.text) ? 'a value path takes one sub-attribute, with no URN or further dots' : 'names start with a letter and continue with letters, digits, - or _';
      syntaxError(this.syntax, token.offset, `'${echo(token.text)}' at position ${token.offset + 1} is not a sub-attribute name: ${why}.`);
    }
    return token.text;
  }

  private parseOperator(path: ScimAttributePath, valueFilter: Parsed | undefined, pathToken: ScimToken): Parsed {
    const opToken = this.next();
    const opName = opToken.kind === 'word' ? opToken.text.toLowerCase() : '';
    const depth = (valueFilter?.depth ?? 0) + 1;
    const filter = valueFilter ? { valueFilter: valueFilter.node } : {};
    if (opName === 'pr') return this.node({ kind: 'present', path, ...filter }, depth, pathToken);
    if (OPERATORS.has(opName)) {
      const value = this.parseValue(opToken);
      return this.node({ kind: 'compare', path, ...filter, op: opName as ScimCompareOperator, value }, depth, pathToken);
    }
    const hint = opToken.kind === '(' ? ' SCIM has no functions: use co, sw or ew, e.g. displayName co "ann".' : '';
    syntaxError(
      this.syntax,
      opToken.offset,
      `Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after '${echo(formatAttributePath(path))}' at position ${opToken.offset + 1}, but found ${this.describe(opToken)}.${hint}`,
    );
  }

  private parseValue(opToken: ScimToken): ScimValue {
    const token = this.next();
    if (token.kind === 'string') return token.value ?? '';
    if (token.kind === 'number') return this.number(token);
    const word = token.kind === 'word' ? token.text.toLowerCase() : '';
    if (word === 'true' || word === 'false') return word === 'true';
    if (word === 'null') return null;
    const hint = token.kind === 'word' ? ` Text values go in double quotes, e.g. "${echo(token.text)}".` : '';
    syntaxError(
      this.syntax,
      token.offset,
      `Expected a value after '${echo(opToken.text)}' at position ${token.offset + 1} (a "string", a number, true, false or null), but found ${this.describe(token)}.${hint}`,
    );
  }

  private number(token: ScimToken): number {
    const value = Number(token.text);
    const integral = !/[.eE]/.test(token.text);
    // Written as digits, an integer beyond 2^53 would silently compare as a different number.
    if (!Number.isFinite(value) || (integral && !Number.isSafeInteger(value))) {
      syntaxError(this.syntax, token.offset, `The number '${echo(token.text)}' at position ${token.offset + 1} is out of range.`);
    }
    return value === 0 ? 0 : value; // -0 reads as 0
  }

  /**
   * Splits one word into `[URI ":"] ATTRNAME ["." subAttr]`: the URN is everything before the
   * last ':' (attribute names never contain one). Inside a value filter only a plain name is
   * allowed: it names a sub-attribute of `parent`.
   */
  parseAttributePath(token: ScimToken, parent: ScimAttributePath | undefined): ScimAttributePath {
    if (token.kind !== 'word') {
      syntaxError(this.syntax, token.offset, `Expected an attribute name such as userName at position ${token.offset + 1}, but found ${this.describe(token)}.`);
    }
    const text = token.text;
    const at = (index: number) => token.offset + index + 1;
    if (parent) {
      if (ATTRNAME.test(text) || REF.test(text)) return { attribute: text };
      const name = echo(formatAttributePath(parent));
      syntaxError(
        this.syntax,
        token.offset,
        `Inside ${name}[…] name a sub-attribute of ${name} on its own, such as type or value; '${echo(text)}' at position ${at(0)} is not one (value filters cannot nest or name other attributes).`,
      );
    }
    const colon = text.lastIndexOf(':');
    const path: ScimAttributePath = colon >= 0 ? { uri: text.slice(0, colon), attribute: '' } : { attribute: '' };
    let rest = text;
    if (path.uri !== undefined) {
      const uri = path.uri;
      if (!URN.test(uri)) {
        syntaxError(this.syntax, token.offset, `'${echo(uri)}' at position ${at(0)} is not a schema URN; a qualified attribute is written like urn:ietf:params:scim:schemas:core:2.0:User:userName.`);
      }
      rest = text.slice(colon + 1);
      if (rest === '') syntaxError(this.syntax, token.offset + colon + 1, `Expected an attribute name after the schema URN '${echo(uri)}:' at position ${at(colon + 1)}.`);
    }
    const start = colon + 1;
    const dot = rest.indexOf('.');
    const attribute = dot < 0 ? rest : rest.slice(0, dot);
    if (!ATTRNAME.test(attribute)) {
      syntaxError(this.syntax, token.offset + start, `'${echo(attribute)}' at position ${at(start)} is not an attribute name: names start with a letter and continue with letters, digits, - or _.`);
    }
    path.attribute = attribute;
    if (dot < 0) return path;
    const sub = rest.slice(dot + 1);
    const subAt = start + dot + 1;
    if (sub === '') syntaxError(this.syntax, token.offset + subAt, `Expected a sub-attribute name after '${echo(text)}' at position ${at(subAt)}, e.g. name.givenName.`);
    if (sub.includes('.')) {
      syntaxError(this.syntax, token.offset, `'${echo(text)}' at position ${at(0)} has more than one sub-attribute; a SCIM path is attribute or attribute.subAttribute.`);
    }
    if (!ATTRNAME.test(sub) && !REF.test(sub)) {
      syntaxError(this.syntax, token.offset + subAt, `'${echo(sub)}' at position ${at(subAt)} is not a sub-attribute name: names start with a letter and continue with letters, digits, - or _.`);
    }
    path.subAttribute = sub;
    return path;
  }

  /** Fails unless every token was read, with a hint for the usual reasons. */
  expectEnd(hintForExtra = "join conditions with 'and' or 'or'"): void {
    const extra = this.peek();
    if (extra.kind === 'end') return;
    const hint = extra.kind === ')' ? 'there is no matching opening parenthesis' : extra.kind === ']' ? "there is no matching '['" : hintForExtra;
    syntaxError(this.syntax, extra.offset, `Unexpected ${this.describe(extra)} at position ${extra.offset + 1}; ${hint}.`);
  }

  private logical(kind: 'and' | 'or', op: ScimToken, left: Parsed, right: Parsed): Parsed {
    return this.node({ kind, left: left.node, right: right.node }, Math.max(left.depth, right.depth) + 1, op);
  }

  /** Checked before recursing, so hostile nesting fails fast instead of exhausting the stack. */
  private enter(nesting: number, token: ScimToken): void {
    if (nesting + 1 > this.limits.maxDepth) this.tooDeep(token);
  }

  private tooDeep(token: ScimToken): never {
    syntaxError(this.syntax, token.offset, `The ${this.syntax.noun} nests more than ${this.limits.maxDepth} levels deep at position ${token.offset + 1}; simplify it.`);
  }

  private node(node: ScimFilter, depth: number, token: ScimToken): Parsed {
    if (depth > this.limits.maxDepth) this.tooDeep(token);
    if (++this.nodes > this.limits.maxNodes) {
      syntaxError(this.syntax, token.offset, `The ${this.syntax.noun} has more than ${this.limits.maxNodes} conditions and operators (at position ${token.offset + 1}); simplify it.`);
    }
    return { node, depth };
  }

  /** Reads a '(' … ']' token that must come next; `purpose` completes "Expected ')' at position N to …". */
  expect(kind: ScimToken['kind'], purpose: string): ScimToken {
    const token = this.next();
    if (token.kind !== kind) syntaxError(this.syntax, token.offset, `Expected '${kind}' at position ${token.offset + 1} to ${purpose}, but found ${this.describe(token)}.`);
    return token;
  }

  private describe(token: ScimToken): string {
    return describeToken(token, this.syntax);
  }

  private isWord(token: ScimToken, word: string): boolean {
    return token.kind === 'word' && token.text.toLowerCase() === word;
  }

  peek(ahead = 0): ScimToken {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)] as ScimToken;
  }

  next(): ScimToken {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }
}
