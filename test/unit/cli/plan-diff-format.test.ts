import { describe, expect, it } from 'vitest';
import { PlanFormatter, useColor, type PlanItem, type SyncRun } from '../../../src/cli/plan-diff-format.js';

const item = (over: Partial<PlanItem>): PlanItem => ({ key: 'k1', userId: null, action: 'update', changes: {}, warnings: [], error: null, ...over });

describe('the plan as roster sync prints it', () => {
  const plain = new PlanFormatter(false);

  it('shows one line per user: created fields, each update as before → after, suspensions, errors, with warnings under them', () => {
    expect(plain.item(item({ action: 'create', key: '42', changes: { email: { from: null, to: 'a@example.com' }, groups: { from: [], to: ['Sales'] } } }))).toBe(
      '+ create 42: email "a@example.com", groups ["Sales"]',
    );
    expect(plain.item(item({ key: '7', changes: { title: { from: 'A', to: 'B' }, department: { from: null, to: 'Ops' } }, warnings: [{ code: 'manager.unknown', message: 'no user with key 9' }] }))).toBe(
      '~ update 7: title "A" → "B", department null → "Ops"\n    warning: manager.unknown: no user with key 9',
    );
    expect(plain.item(item({ action: 'suspend', key: '8' }))).toBe('- suspend 8');
    expect(plain.item(item({ action: 'reactivate', key: '9', changes: { status: { from: 'suspended', to: 'active' } } }))).toBe('* reactivate 9: status "suspended" → "active"');
    expect(plain.item(item({ action: 'error', key: '10', error: { code: 'user.external_id_taken', detail: 'owned by origin ad' } }))).toBe('! error 10: user.external_id_taken: owned by origin ad');
    // A long value is cut so a line stays readable.
    expect(plain.item(item({ changes: { title: { from: 'x'.repeat(200), to: 'y' } } }))).toMatch(/^~ update k1: title "x{78}… → "y"$/);
  });

  it('summarises the counts and says why a plan is held', () => {
    const run: SyncRun = {
      id: 'r1', origin: 'hr', status: 'held', counts: { create: 1, update: 2, reactivate: 0, suspend: 30, unchanged: 100, errors: 1 }, applied: null,
      heldReasons: ['30 suspensions exceed maxDeactivations 5% (6 users)'], jobId: null, createdAt: '', plannedAt: '', appliedAt: null,
    };
    expect(plain.summary(run)).toBe(
      'Plan r1 (origin hr): 1 to create, 2 to update, 0 to reactivate, 30 to suspend, 100 unchanged, 1 error.\nThe plan is held:\n  30 suspensions exceed maxDeactivations 5% (6 users)',
    );
  });

  it('colours only on a terminal and never with NO_COLOR', () => {
    expect(new PlanFormatter(true).item(item({ action: 'suspend', key: 's' }))).toBe('\u001b[31m- suspend s\u001b[0m');
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
  });
});
