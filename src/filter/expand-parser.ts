import { allowedHint, odataError, quote } from './filter-errors.js';

export interface ExpandItem {
  name: string;
  /** Fields to return for the expanded entity; undefined means all of them. */
  select?: string[];
}

export interface ExpandableRelation {
  selectable: readonly string[];
}

const MAX_LENGTH = 1024;
const NAME = /^[A-Za-z_][A-Za-z0-9_/]{0,127}$/;
const ITEM = /^([^()]*?)\s*(?:\((.*)\))?$/s;

// These parse OData syntax, so their errors name the OData parameters.
const expandError = (message: string) => odataError('expand', message);
const selectError = (message: string) => odataError('select', message);

/**
 * Parses `$expand`, e.g. "position($select=name),area($select=name,id),groups". Only $select
 * is supported inside the parentheses: expansions are one level deep by design.
 */
export function parseExpand(input: string | undefined, allowed: Record<string, ExpandableRelation>): ExpandItem[] {
  if (input === undefined || input.trim() === '') return [];
  if (input.length > MAX_LENGTH) throw expandError(`$expand is ${input.length} characters long; the maximum is ${MAX_LENGTH}.`);
  const seen = new Set<string>();
  return splitTopLevel(input).map((raw) => {
    const text = raw.trim();
    const match = ITEM.exec(text);
    const name = match?.[1]?.trim() ?? '';
    if (!match || !NAME.test(name)) {
      throw expandError(`Cannot read ${quote(text)} in $expand; write relation names separated by commas, e.g. position($select=name),groups.`);
    }
    const relation = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (!relation) throw expandError(`Cannot expand ${quote(name)}. ${allowedHint(name, Object.keys(allowed))}`);
    if (seen.has(name)) throw expandError(`${quote(name)} appears more than once in $expand.`);
    seen.add(name);
    const options = match[2];
    return options === undefined ? { name } : { name, select: parseNestedOptions(name, options, relation) };
  });
}

function parseNestedOptions(name: string, options: string, relation: ExpandableRelation): string[] {
  if (options.trim() === '') throw expandError(`${name}() has empty parentheses; write ${name}($select=…) or just ${name}.`);
  let select: string[] | undefined;
  for (const option of options.split(';')) {
    const eq = option.indexOf('=');
    const key = (eq < 0 ? option : option.slice(0, eq)).trim();
    if (key.toLowerCase() !== '$select') {
      throw expandError(`${quote(key || option)} inside ${name}(...) is not supported; only $select is, e.g. ${name}($select=${relation.selectable[0] ?? 'id'}).`);
    }
    if (select) throw expandError(`$select appears more than once inside ${name}(...).`);
    try {
      select = parseSelect(option.slice(eq + 1), relation.selectable) ?? [...relation.selectable];
    } catch (error) {
      // Report the whole thing as an $expand problem: that is the parameter the client sent.
      throw expandError(`In ${name}(...): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return select ?? [...relation.selectable];
}

/** Splits at commas outside parentheses, since a nested $select has commas of its own. */
function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) throw expandError(`Unmatched ')' at position ${i + 1} of $expand.`);
    else if (ch === ',' && depth === 0) {
      parts.push(input.slice(start, i));
      start = i + 1;
    }
    if (depth > 1) throw expandError(`Nested parentheses at position ${i + 1} of $expand are not supported; expansions are one level deep.`);
  }
  if (depth !== 0) throw expandError("An opening '(' in $expand is never closed.");
  parts.push(input.slice(start));
  return parts;
}

/**
 * Parses `$select`, e.g. "userName,email". Undefined or `*` means every field (undefined), also
 * beside other fields (`*,email`: OData's `*` is every field, and more of them changes nothing);
 * the other fields must still exist. Repeats are harmless and dropped.
 */
export function parseSelect(input: string | undefined, allowed: readonly string[]): string[] | undefined {
  if (input === undefined) return undefined;
  const text = input.trim();
  if (text === '*') return undefined;
  if (text === '') throw selectError('$select is empty; list fields separated by commas, or leave it out to get every field.');
  if (text.length > MAX_LENGTH) throw selectError(`$select is ${text.length} characters long; the maximum is ${MAX_LENGTH}.`);
  const fields: string[] = [];
  let everything = false;
  for (const raw of text.split(',')) {
    const field = raw.trim();
    if (field === '') throw selectError('$select has an empty entry; separate fields with single commas, e.g. userName,email.');
    if (field === '*') everything = true;
    else if (!allowed.includes(field)) throw selectError(`Cannot select ${quote(field)}. ${allowedHint(field, allowed)}`);
    else if (!fields.includes(field)) fields.push(field);
  }
  return everything ? undefined : fields;
}
