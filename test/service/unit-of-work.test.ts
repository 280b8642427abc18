import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { DIRECTORY } from '../../src/domain/directory.js';
import { createUser, updateUser } from '../../src/services/commands/user-commands.js';
import { createRecord } from '../../src/services/commands/directory-commands.js';
import { replaceMemberships } from '../../src/services/commands/membership-commands.js';
import type { Command } from '../../src/services/unit-of-work.js';
import type { User } from '../../src/domain/user.js';
import { useServiceRuntime, type ServiceRuntime } from '../helpers/service-runtime.js';

let s: ServiceRuntime;
useServiceRuntime((runtime) => {
  s = runtime;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

const repos = () => s.runtime.services.store.repos;
const eventsOf = async (userId: string) => repos().events.list({ tenantId: 'default', resourceType: 'user', resourceId: userId, limit: 100, order: 'desc' });

describe('commands in the caller unit of work', () => {
  it('runs a batch in one unit where one row fails alone: nothing of it is applied, the others commit with their events', async () => {
    const taken = await s.runtime.services.users.create(s.principal, { userName: unique('taken') });
    const names = [unique('a'), taken.userName.toUpperCase(), unique('c'), unique('d')];
    const freedKey = unique('k');
    const commands: Command<User>[] = [
      createUser({ userName: names[0] }),
      createUser({ userName: names[1], externalIds: [{ origin: 'hr', key: freedKey }] }), // duplicate userName: fails at the database
      createUser({ userName: names[2], managerId: '0190a0a0-0000-7000-8000-000000000000' }), // unknown manager: fails in the rule
      createUser({ userName: names[3] }),
    ];
    const allEvents = async () => (await repos().events.list({ tenantId: 'default', limit: 10_000, order: 'desc' })).length;
    const eventsBefore = await allEvents();
    const outcomes = await s.runtime.services.units.batch(s.principal, commands);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, true]);
    // Exactly the two good rows' events: a failed row's queued events go with its savepoint.
    expect((await allEvents()) - eventsBefore).toBe(2);
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'user.username_taken' } });
    expect(outcomes[2]).toMatchObject({ ok: false, error: { code: 'user.manager_not_found' } });

    for (const [i, name] of names.entries()) {
      const stored = await repos().users.findByUserName('default', name);
      if (i === 1) expect(stored?.id).toBe(taken.id);
      else if (i === 2) expect(stored).toBeUndefined();
      else expect(stored).toBeDefined();
    }
    // The failed row's external id went with it: nobody holds that key.
    expect(await repos().users.findByExternalId('default', 'hr', freedKey)).toBeUndefined();
    const created = outcomes.filter((o) => o.ok).map((o) => (o as { value: User }).value);
    for (const user of created) expect((await eventsOf(user.id)).map((e) => e.type)).toEqual(['user.created']);
  });

  it('later rows of a unit see earlier rows of the same unit (a manager created in the same batch)', async () => {
    const [boss] = await s.runtime.services.units.batch(s.principal, [createUser({ userName: unique('boss') })]);
    const bossId = (boss as { ok: true; value: User }).value.id;
    const result = await s.runtime.services.units.within(s.principal, async (unit) => {
      const manager = await unit.execute(createUser({ userName: unique('mgr'), managerId: bossId }));
      const report = await unit.execute(createUser({ userName: unique('rep'), managerId: manager.id }));
      return { manager, report };
    });
    expect((await repos().users.findById('default', result.report.id))?.managerId).toBe(result.manager.id);
  });

  it('aborts the whole unit on an error that is not a row error', async () => {
    const name = unique('aborted');
    const boom: Command<User> = async () => {
      throw new Error('boom');
    };
    await expect(s.runtime.services.units.batch(s.principal, [createUser({ userName: name }), boom])).rejects.toThrow('boom');
    expect(await repos().users.findByUserName('default', name)).toBeUndefined();
  });

  it('loads the attribute definitions once per unit, whatever the number of user writes', async () => {
    await s.runtime.services.units.run(s.principal, createRecord(DIRECTORY.attribute_definition, { name: 'badge', type: 'string' }));
    const statements: string[] = [];
    const stop = s.runtime.database.observe((q) => statements.push(q.sql));
    try {
      const outcomes = await s.runtime.services.units.batch(
        s.principal,
        Array.from({ length: 20 }, (_, i) => createUser({ userName: unique('attr'), attributes: { badge: `b${i}` } })),
      );
      expect(outcomes.every((o) => o.ok)).toBe(true);
    } finally {
      stop();
    }
    expect(statements.filter((q) => q.includes('attribute_definitions')).length).toBe(1);
  });

  it('rejects a row whose attribute breaks a definition created earlier in the same unit', async () => {
    const name = unique('level').replaceAll('-', '_');
    let outcome: unknown;
    // The unit is rolled back at the end (a thrown error), so the required definition never commits.
    const work = s.runtime.services.units.within(s.principal, async (unit) => {
      await unit.execute(createRecord(DIRECTORY.attribute_definition, { name, type: 'number', required: true }));
      outcome = await unit.attempt(createUser({ userName: unique('nolevel') }));
      throw new Error('roll back');
    });
    await expect(work).rejects.toThrow('roll back');
    expect(outcome).toMatchObject({ ok: false, error: { code: 'user.attribute_invalid' } });
    const definitions = await repos().directory.listAll(DIRECTORY.attribute_definition, 'default', 100);
    expect(definitions.map((d) => d.name)).not.toContain(name);
  });

  it('enqueues jobs in the unit: a row that fails takes its job with it, a row that commits keeps it', async () => {
    const type = unique('test-job');
    const enqueueThen = (fail: boolean): Command<User> => async (unit) => {
      await unit.enqueue({ type, payload: { fail } });
      if (fail) throw new AppError('user.not_found');
      return createUser({ userName: unique('job') })(unit);
    };
    const outcomes = await s.runtime.services.units.batch(s.principal, [enqueueThen(true), enqueueThen(false)]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
    const jobs = (await repos().jobs.list({ tenantId: 'default', includeSystem: false }, { type, limit: 10 })).map((j) => j.payload);
    expect(jobs).toEqual([{ fail: false }]);
  });

  it('a change that changes nothing writes no event and keeps the version', async () => {
    const user = await s.runtime.services.users.create(s.principal, { userName: unique('same'), department: 'Ops' });
    const again = await s.runtime.services.units.run(s.principal, updateUser(user.id, undefined, () => ({ userName: user.userName, department: 'Ops' }), 'replace'));
    expect(again.version).toBe(1);
    expect((await eventsOf(user.id)).length).toBe(1);
  });

  it('membership commands return the change and move the versions of both ends', async () => {
    const user = await s.runtime.services.users.create(s.principal, { userName: unique('member') });
    const group = await s.runtime.services.directory.create(s.principal, DIRECTORY.group, { name: unique('g') });
    const change = await s.runtime.services.units.run(s.principal, replaceMemberships('groups', user.id, [{ targetId: group.id }]));
    expect(change).toEqual({ added: [group.id], removed: [], updated: [] });
    expect((await repos().users.findById('default', user.id))?.version).toBe(2);
    expect((await repos().directory.findById(DIRECTORY.group, 'default', group.id))?.version).toBe(2);
  });

});
