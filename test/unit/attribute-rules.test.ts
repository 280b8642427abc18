import { describe, expect, it } from 'vitest';
import { attributeErrors, attributeIndexTarget, isAttributeDate, type AttributeDefinition } from '../../src/services/attribute-rules.js';

const def = (name: string, type: AttributeDefinition['type'], extra: Partial<AttributeDefinition> = {}): AttributeDefinition => ({
  name, type, required: false, enumValues: [], multiValued: false, indexed: false, ...extra,
});
const defs = [def('size', 'number'), def('tier', 'enum', { enumValues: ['gold'] }), def('code', 'string', { required: true }), def('tags', 'string', { multiValued: true })];
const fields = (attributes: Record<string, unknown>, previous?: Record<string, unknown>, requireAll = true) =>
  attributeErrors(attributes, defs, { previous, requireAll }).map((e) => e.field);

describe('attribute rules', () => {
  it('check nothing without definitions', () => {
    expect(attributeErrors({ anything: { x: 1 } }, [], { requireAll: true })).toEqual([]);
  });

  it('report each problem at its JSON pointer', () => {
    expect(fields({ code: 'x', size: '1', tier: 'silver', tags: 'a', 'a/b~c': 1 })).toEqual(['/body/attributes/size', '/body/attributes/tier', '/body/attributes/tags', '/body/attributes/a~1b~0c']);
    expect(fields({ size: 1 })).toEqual(['/body/attributes/code']);
    expect(fields({ code: 'x', size: null, tier: null, tags: [] })).toEqual([]);
  });

  it('skip unchanged values and only refuse removing a required one on patch', () => {
    expect(fields({ size: 'legacy', other: 1 }, { size: 'legacy', other: 1 }, false)).toEqual([]);
    expect(fields({ size: 'legacy' }, { size: 'legacy', code: 'x' }, false)).toEqual(['/body/attributes/code']);
    expect(fields({ size: 'legacy' }, { size: 'legacy' }, true)).toEqual(['/body/attributes/code']);
  });

  it('accept calendar dates and full ISO date-times only', () => {
    for (const ok of ['2024-02-29', '2024-01-31T09:30:00Z', '2024-01-31T09:30:00.5-03:00']) expect(isAttributeDate(ok), ok).toBe(true);
    for (const bad of ['2023-02-29', '2024-1-31', '2024-01-31T09:30Z', '2024-01-31T09:30:00', '2024-01-31 09:30:00Z', 'tomorrow']) expect(isAttributeDate(bad), bad).toBe(false);
  });

  it('index indexed single-valued attributes by their filter type', () => {
    expect(attributeIndexTarget(def('hired', 'date', { indexed: true }))).toEqual({ name: 'hired', type: 'string' });
    expect(attributeIndexTarget(def('n', 'number', { indexed: true }))).toEqual({ name: 'n', type: 'number' });
    expect(attributeIndexTarget(def('n', 'number'))).toBeUndefined();
    expect(attributeIndexTarget(def('tags', 'string', { indexed: true, multiValued: true }))).toBeUndefined();
  });
});
