import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

const suite = useApiSuite();
const { unique } = suite;
const request = suite.request.bind(suite);

async function create(payload: Record<string, unknown>) {
  const res = await request({ method: 'POST', url: '/v1/users', payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const history = async (id: string) =>
  (await request({ method: 'GET', url: `/v1/users/${id}/history` })).json().items as { type: string; changes: Record<string, { from: unknown; to: unknown }> }[];

const patch = (id: string, payload: Record<string, unknown>) => request({ method: 'PATCH', url: `/v1/users/${id}`, payload });

describe('user lifecycle through the API', () => {
  it('writes the same event for a status change whichever endpoint made it', async () => {
    const viaPatch = await create({ userName: unique('p') });
    const viaAction = await create({ userName: unique('a') });
    expect((await patch(viaPatch.id, { status: 'suspended' })).json()).toMatchObject({ status: 'suspended', version: 2 });
    expect((await request({ method: 'POST', url: `/v1/users/${viaAction.id}/suspend` })).json()).toMatchObject({ status: 'suspended', version: 2 });
    const [a, b] = [await history(viaPatch.id), await history(viaAction.id)];
    expect(a[0]).toMatchObject({ type: 'user.suspended', changes: { status: { from: 'active', to: 'suspended' } } });
    expect(b[0]).toMatchObject({ type: 'user.suspended', changes: { status: { from: 'active', to: 'suspended' } } });
  });

  it('accepts inactive as an alias of suspended on input, and PUT keeps status unless sent', async () => {
    const user = await create({ userName: unique('alias'), status: 'inactive' });
    expect(user.status).toBe('suspended');
    const put = await request({ method: 'PUT', url: `/v1/users/${user.id}`, payload: { userName: user.userName, title: 'x' } });
    expect(put.json()).toMatchObject({ status: 'suspended', title: 'x' });
    const reactivated = await request({ method: 'PUT', url: `/v1/users/${user.id}`, payload: { userName: user.userName, title: 'x', status: 'active' } });
    expect(reactivated.json()).toMatchObject({ status: 'active' });
    expect((await history(user.id)).map((e) => e.type)).toEqual(['user.activated', 'user.updated', 'user.created']);
  });

  it('splits a PATCH of status and fields into user.updated and the transition event, one version', async () => {
    const user = await create({ userName: unique('both') });
    const res = await patch(user.id, { status: 'suspended', department: 'Ops' });
    expect(res.json()).toMatchObject({ status: 'suspended', department: 'Ops', version: 2 });
    const events = await history(user.id);
    expect(events.slice(0, 2).map((e) => e.type).sort()).toEqual(['user.suspended', 'user.updated']);
    expect(events.find((e) => e.type === 'user.updated')?.changes).toEqual({ department: { from: null, to: 'Ops' } });
  });

  it('repeating a transition that already happened is a 200 that writes nothing', async () => {
    const user = await create({ userName: unique('again') });
    const before = (await history(user.id)).length;
    for (const res of [await patch(user.id, { status: 'active' }), await request({ method: 'POST', url: `/v1/users/${user.id}/activate` })]) {
      expect(res.statusCode).toBe(200);
      expect(res.json().version).toBe(1);
    }
    expect((await history(user.id)).length).toBe(before);
  });

  it('refuses a transition the table does not allow with a 409 naming the current and allowed states, and changes nothing', async () => {
    const user = await create({ userName: unique('refused') });
    for (const status of ['locked', 'deprovisioned', 'deprovisioning', 'staged', 'invited']) {
      const res = await patch(user.id, { status, title: 'never' });
      expect(res.statusCode, status).toBe(409);
      expect(res.json()).toMatchObject({ code: 'user.transition_not_allowed' });
      expect(res.json().detail).toContain('is active');
      expect(res.json().detail).toContain('allowed next states: suspended');
    }
    const after = (await request({ method: 'GET', url: `/v1/users/${user.id}` })).json();
    expect(after).toMatchObject({ status: 'active', title: null, version: 1 });
  });

  it('lets a new user start only in an initial state', async () => {
    expect((await create({ userName: unique('staged'), status: 'staged' })).status).toBe('staged');
    expect((await create({ userName: unique('invited'), status: 'invited' })).status).toBe('invited');
    const locked = await request({ method: 'POST', url: '/v1/users', payload: { userName: unique('locked'), status: 'locked' } });
    expect(locked.statusCode).toBe(400);
    expect(locked.json()).toMatchObject({ code: 'request.validation_failed', errors: [{ field: '/body/status' }] });
    const bogus = await request({ method: 'POST', url: '/v1/users', payload: { userName: unique('bogus'), status: 'retired' } });
    expect(bogus.statusCode).toBe(400);
  });

  it('moves a staged user to active and writes user.activated', async () => {
    const user = await create({ userName: unique('start'), status: 'staged' });
    const res = await request({ method: 'POST', url: `/v1/users/${user.id}/activate` });
    expect(res.json()).toMatchObject({ status: 'active', version: 2 });
    expect((await history(user.id))[0]).toMatchObject({ type: 'user.activated', changes: { status: { from: 'staged', to: 'active' } } });
  });
});
