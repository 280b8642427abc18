import type { ComparisonOperator, FieldPath, FilterNode, Literal, StringFunctionName } from './filter-ast.js';
import { odataError, quote } from './filter-errors.js';
import { SEGMENT } from './literal-validators.js';
import { describeToken, tokenize, type Token } from './odata-filter-tokenizer.js';

/** The OData parser knows the client wrote `$filter`, so its errors say so. */
const syntaxError = (message: string) => odataError('filter', message);

/** Limits that keep a hostile filter from costing more than an ordinary one. */
export const FILTER_LIMITS = { maxLength: 4096, maxDepth: 32, maxNodes: 100, maxInValues: 100 } as const;

const COMPARISONS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS = new Set<string>(['contains', 'startswith', 'endswith']);

/**
 * Parses an OData v4 `$filter` subset into a FilterNode. Precedence, loosest first:
 * or, and, not, then comparisons (so `not a eq 1 and b eq 2` is `(not (a eq 1)) and (b eq 2)`).
 */
export function parseODataFilter(input: string): FilterNode {
  if (input.length > FILTER_LIMITS.maxLength) {
    throw syntaxError(`The filter is ${input.length} characters long; the maximum is ${FILTER_LIMITS.maxLength}.`);
  }
  if (input.trim() === '') throw syntaxError("The filter is empty. Write a condition such as userName eq 'jdoe'.");
  return new Parser(tokenize(input)).parseAll();
}

class Parser {
  private index = 0;
  private depth = 0;
  private nodes = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): FilterNode {
    const node = this.parseOr();
    const extra = this.peek();
    if (extra.kind !== 'end') {
      const hint = extra.kind === ')' ? 'there is no matching opening parenthesis' : "join conditions with 'and' or 'or'";
      throw syntaxError(`Unexpected ${describeToken(extra)} at position ${extra.offset + 1}; ${hint}.`);
    }
    return node;
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      left = this.node({ kind: 'or', left, right: this.parseAnd() });
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      left = this.node({ kind: 'and', left, right: this.parseUnary() });
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const token = this.peek();
    if (this.isWord(token, 'not')) {
      this.next();
      return this.nested(token, () => this.node({ kind: 'not', operand: this.parseUnary() }));
    }
    return this.parsePrimary();
  }

  private parsePrimary(): FilterNode {
    const token = this.peek();
    if (token.kind === '(') {
      this.next();
      return this.nested(token, () => {
        const inner = this.parseOr();
        this.expect(')', `')' to close the parenthesis opened at position ${token.offset + 1}`);
        return inner;
      });
    }
    if (token.kind === 'word' && this.peek(1).kind === '(') return this.parseFunction();
    if (token.kind === 'word') return this.parseCondition();
    throw syntaxError(`Expected a condition such as userName eq 'jdoe' at position ${token.offset + 1}, but found ${describeToken(token)}.`);
  }

  private parseFunction(): FilterNode {
    const nameToken = this.next();
    const name = nameToken.text.toLowerCase();
    if (!FUNCTIONS.has(name)) {
      throw syntaxError(`Unsupported function ${quote(nameToken.text)} at position ${nameToken.offset + 1}. Supported: contains, startswith, endswith.`);
    }
    this.next();
    const path = this.parsePath(false);
    if (!Array.isArray(path)) throw syntaxError(`${name}() takes a field, not a lambda.`);
    this.expect(',', `a comma after the field in ${name}()`);
    const valueToken = this.next();
    if (valueToken.kind !== 'string') {
      throw syntaxError(`${name}() needs a quoted text value as its second argument at position ${valueToken.offset + 1}, e.g. ${name}(${path.join('/')},'abc').`);
    }
    this.expect(')', `a closing parenthesis after ${name}(${path.join('/')},…`);
    const call = this.node({ kind: 'function', name: name as StringFunctionName, path, value: valueToken.value ?? '' });
    return this.parseBooleanComparison(call);
  }

  /** `contains(x,'a') eq false` is common client output; fold it into the tree. */
  private parseBooleanComparison(call: FilterNode): FilterNode {
    const op = this.peek();
    if (!this.isWord(op, 'eq') && !this.isWord(op, 'ne')) return call;
    this.next();
    const value = this.next();
    const bool = value.kind === 'word' ? value.text.toLowerCase() : '';
    if (bool !== 'true' && bool !== 'false') {
      throw syntaxError(`A function result can only be compared with true or false (position ${value.offset + 1}).`);
    }
    const negate = (bool === 'false') !== (op.text.toLowerCase() === 'ne');
    return negate ? this.node({ kind: 'not', operand: call }) : call;
  }

  private parseCondition(): FilterNode {
    const path = this.parsePath(true);
    if (!Array.isArray(path)) return path;
    const op = this.next();
    const opName = op.kind === 'word' ? op.text.toLowerCase() : '';
    if (COMPARISONS.has(opName)) {
      return this.node({ kind: 'compare', op: opName as ComparisonOperator, path, value: this.parseLiteral(path) });
    }
    if (opName === 'in') return this.parseIn(path);
    throw syntaxError(`Expected an operator (eq, ne, gt, ge, lt, le or in) after ${quote(path.join('/'))} at position ${op.offset + 1}, but found ${describeToken(op)}.`);
  }

  private parseIn(path: FieldPath): FilterNode {
    this.expect('(', `a parenthesised list after 'in', e.g. ${path.join('/')} in ('a','b')`);
    const values: Literal[] = [];
    for (;;) {
      if (values.length === FILTER_LIMITS.maxInValues) {
        throw syntaxError(`An 'in' list may hold at most ${FILTER_LIMITS.maxInValues} values.`);
      }
      values.push(this.parseLiteral(path));
      if (this.peek().kind !== ',') break;
      this.next();
    }
    this.expect(')', "a comma or the closing parenthesis of the 'in' list");
    return this.node({ kind: 'in', path, values });
  }

  /** A field path, or a whole lambda when the path ends in `/any(`. */
  private parsePath(allowLambda: boolean): FieldPath | FilterNode {
    const path: FieldPath = [this.segment(this.next())];
    while (this.peek().kind === '/') {
      this.next();
      const token = this.next();
      const word = token.kind === 'word' ? token.text.toLowerCase() : '';
      if ((word === 'any' || word === 'all') && this.peek().kind === '(') {
        if (word === 'all' || !allowLambda) {
          throw syntaxError(`${word}() is not supported at position ${token.offset + 1}; use ${path.join('/')}/any(x: ...) on its own, or not ${path.join('/')}/any(x: not ...) for "all".`);
        }
        return this.parseLambda(path, token);
      }
      path.push(this.segment(token));
    }
    return path;
  }

  private parseLambda(path: FieldPath, anyToken: Token): FilterNode {
    this.next();
    const variableToken = this.next();
    if (variableToken.kind === ')') {
      throw syntaxError(`any() needs a condition at position ${variableToken.offset + 1}, e.g. ${path.join('/')}/any(x: x eq 'value').`);
    }
    const variable = this.segment(variableToken);
    this.expect(':', `a colon after the lambda variable ${quote(variable)}, e.g. ${path.join('/')}/any(${variable}: ...)`);
    return this.nested(anyToken, () => {
      const predicate = this.parseOr();
      this.expect(')', `the closing parenthesis of ${path.join('/')}/any(...)`);
      return this.node({ kind: 'any', path, variable, predicate });
    });
  }

  private parseLiteral(path: FieldPath): Literal {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return { type: 'string', value: token.value ?? '' };
      case 'datetime':
        return { type: 'datetime', value: token.value ?? '' };
      case 'guid':
        return { type: 'guid', value: token.text.toLowerCase() };
      case 'number':
        return { type: 'number', value: this.number(token) };
      case 'word': {
        const word = token.text.toLowerCase();
        if (word === 'true' || word === 'false') return { type: 'boolean', value: word === 'true' };
        if (word === 'null') return { type: 'null' };
        throw syntaxError(`Expected a value at position ${token.offset + 1} but found ${describeToken(token)}. Comparing ${quote(path.join('/'))} with another field is not supported; quote text values, e.g. '${token.text}'.`);
      }
      default:
        throw syntaxError(`Expected a value for ${quote(path.join('/'))} at position ${token.offset + 1}, but found ${describeToken(token)}.`);
    }
  }

  private number(token: Token): number {
    const value = Number(token.text);
    const integral = !/[.eE]/.test(token.text);
    if (!Number.isFinite(value) || (integral && !Number.isSafeInteger(value))) {
      throw syntaxError(`The number ${quote(token.text)} at position ${token.offset + 1} is out of range.`);
    }
    return value;
  }

  private segment(token: Token): string {
    if (token.kind !== 'word') {
      throw syntaxError(`Expected a field name at position ${token.offset + 1}, but found ${describeToken(token)}.`);
    }
    if (!SEGMENT.test(token.text)) {
      throw syntaxError(`The field name ${quote(token.text)} at position ${token.offset + 1} is longer than 64 characters.`);
    }
    return token.text;
  }

  private nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > FILTER_LIMITS.maxDepth) {
      throw syntaxError(`The filter nests more than ${FILTER_LIMITS.maxDepth} levels deep at position ${token.offset + 1}; simplify it.`);
    }
    const result = parse();
    this.depth--;
    return result;
  }

  private node<T extends FilterNode>(node: T): T {
    if (++this.nodes > FILTER_LIMITS.maxNodes) {
      throw syntaxError(`The filter has more than ${FILTER_LIMITS.maxNodes} conditions and operators; simplify it (an 'in' list counts once).`);
    }
    return node;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const token = this.next();
    if (token.kind !== kind) throw syntaxError(`Expected ${what} at position ${token.offset + 1}, but found ${describeToken(token)}.`);
    return token;
  }

  private isWord(token: Token, word: string): boolean {
    return token.kind === 'word' && token.text.toLowerCase() === word;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }
}
