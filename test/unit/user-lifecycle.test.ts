import { describe, expect, it } from 'vitest';
import { canonicalStatus, nextStatuses, planTransition, USER_STATUSES, USER_TRANSITIONS, type UserStatus } from '../../src/domain/user-lifecycle.js';

/** The expected table, written out independently of USER_TRANSITIONS: from → to → [event, client may ask]. */
const EXPECTED: Partial<Record<UserStatus, Partial<Record<UserStatus, [string, boolean]>>>> = {
  staged: { invited: ['user.invited', true], active: ['user.activated', true], suspended: ['user.suspended', true], deprovisioning: ['user.offboarding_started', false] },
  invited: { active: ['user.activated', true], suspended: ['user.suspended', true], deprovisioning: ['user.offboarding_started', false] },
  active: { suspended: ['user.suspended', true], locked: ['user.locked', false], deprovisioning: ['user.offboarding_started', false] },
  suspended: { active: ['user.activated', true], staged: ['user.staged', false], deprovisioning: ['user.offboarding_started', false] },
  locked: { active: ['user.unlocked', true], suspended: ['user.suspended', true], deprovisioning: ['user.offboarding_started', false] },
  deprovisioning: { deprovisioned: ['user.deprovisioned', false], active: ['user.activated', false], suspended: ['user.suspended', false] },
  deprovisioned: { active: ['user.activated', true] },
};

describe('the user lifecycle table', () => {
  for (const from of USER_STATUSES) {
    for (const to of USER_STATUSES) {
      it(`${from} → ${to}`, () => {
        const expected = EXPECTED[from]?.[to];
        const bySystem = planTransition(from, to, 'system');
        const byClient = planTransition(from, to, 'client');
        if (from === to) {
          expect(bySystem).toEqual({ kind: 'none' });
          expect(byClient).toEqual({ kind: 'none' });
          return;
        }
        if (!expected) {
          expect(bySystem.kind).toBe('refused');
          expect(byClient.kind).toBe('refused');
          return;
        }
        const [event, client] = expected;
        expect(bySystem).toMatchObject({ kind: 'move', transition: { from, to, event } });
        if (client) expect(byClient).toMatchObject({ kind: 'move', transition: { from, to, event } });
        else expect(byClient).toEqual({ kind: 'refused', allowed: nextStatuses(from, 'client') });
      });
    }
  }

  it('lists each pair once and only known states', () => {
    const pairs = USER_TRANSITIONS.map((t) => `${t.from}>${t.to}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(pairs.length).toBe(Object.values(EXPECTED).reduce((n, row) => n + Object.keys(row ?? {}).length, 0));
  });

  it('reads the inactive alias as suspended and nothing else', () => {
    expect(canonicalStatus('inactive')).toBe('suspended');
    expect(canonicalStatus('active')).toBe('active');
    expect(canonicalStatus('Active')).toBeUndefined();
    expect(canonicalStatus('toString')).toBeUndefined();
  });
});
