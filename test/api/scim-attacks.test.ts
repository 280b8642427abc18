import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';
import { SCIM_TYPE, URN, createScimUser, scimClient, type ScimClient } from '../helpers/scim-client.js';

/**
 * Hostile and broken input to every SCIM write and list: each answer is a 4xx with a SCIM error
 * body (never a 500, the same on both databases), and changes nothing: the user and group the
 * requests aim at keep their representation and version, and no user or group appears.
 */
const s = useApiSuite();
let c: ScimClient;
let user: Record<string, unknown> & { id: string; userName: string };
let group: { id: string; displayName: string };
const uid = () => s.unique('a').replace(/[^a-z0-9]/gi, '');

beforeAll(async () => {
  c = await scimClient(s, { origin: `atk${uid()}`, owns: 'own' });
  user = (await createScimUser(c, `target-${uid()}@x.com`, { title: 'Target', emails: [{ type: 'work', value: 'target@x.example', primary: true }] })) as typeof user;
  group = (await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `target-${uid()}`, members: [{ value: user.id }] })).json();
});

/** What must not change: both targets in full, and how many users and groups the credential sees. */
async function snapshot(): Promise<unknown> {
  const [u, g, users, groups] = await Promise.all([
    c.get(`/scim/v2/Users/${user.id}`),
    c.get(`/scim/v2/Groups/${group.id}`),
    c.get('/scim/v2/Users?count=0'),
    c.get('/scim/v2/Groups?count=0'),
  ]);
  return { user: u.json(), group: g.json(), users: users.json().totalResults, groups: groups.json().totalResults };
}

interface Attack {
  name: string;
  send: () => Promise<LightMyRequestResponse>;
  status: number;
  scimType?: string;
}

const raw = (method: InjectOptions['method'], url: string, body: string, type = 'application/scim+json') => () => c.request({ method, url, headers: { 'content-type': type }, payload: body });
const postUser = (body: Record<string, unknown>) => () => c.post('/scim/v2/Users', { schemas: [URN.user], userName: `new-${uid()}@x.com`, ...body });
const patchUser = (operations: unknown[]) => () => c.patch(`/scim/v2/Users/${user.id}`, operations);
const patchGroup = (operations: unknown[]) => () => c.patch(`/scim/v2/Groups/${group.id}`, operations);
const list = (query: string) => () => c.get(`/scim/v2/Users?${query}`);
const filter = (text: string) => list(`filter=${encodeURIComponent(text)}`);
/** A valid first operation: a PATCH is atomic, so it must be undone by the bad one after it. */
const first = { op: 'replace', path: 'title', value: 'Changed by a failed PATCH' };
const nested = (depth: number): unknown => (depth === 0 ? 'x' : { givenName: nested(depth - 1) });

const attacks: Attack[] = [
  // Malformed bodies
  { name: 'malformed JSON on POST', send: raw('POST', '/scim/v2/Users', '{"schemas": ["urn:'), status: 400, scimType: 'invalidSyntax' },
  { name: 'malformed JSON on PATCH', send: () => c.request({ method: 'PATCH', url: `/scim/v2/Users/${user.id}`, headers: { 'content-type': 'application/scim+json' }, payload: '{"Operations": [}' }), status: 400, scimType: 'invalidSyntax' },
  { name: 'a JSON array as the body', send: raw('POST', '/scim/v2/Users', '[]'), status: 400, scimType: 'invalidSyntax' },
  { name: 'a JSON string as the body', send: raw('POST', '/scim/v2/Users', '"x"'), status: 400, scimType: 'invalidSyntax' },
  { name: 'an empty body with a JSON type', send: raw('POST', '/scim/v2/Users', ''), status: 400 },
  { name: 'application/json-patch+json on PATCH', send: () => c.request({ method: 'PATCH', url: `/scim/v2/Users/${user.id}`, headers: { 'content-type': 'application/json-patch+json' }, payload: '[]' }), status: 415 },
  { name: 'a body over the size limit', send: postUser({ displayName: 'x'.repeat(2_000_000) }), status: 413 },
  { name: 'JSON nested 10,000 deep', send: raw('POST', '/scim/v2/Users', `{"schemas":["${URN.user}"],"userName":"deep","name":${'{"givenName":'.repeat(10_000)}"x"${'}'.repeat(10_000)}}`), status: 400 },
  { name: 'a value nested 50 deep', send: postUser({ name: nested(50) }), status: 400, scimType: 'invalidValue' },
  // Wrong types
  { name: 'userName 5', send: postUser({ userName: 5 }), status: 400, scimType: 'invalidValue' },
  { name: 'userName true', send: postUser({ userName: true }), status: 400, scimType: 'invalidValue' },
  { name: 'userName an object', send: postUser({ userName: { value: 'x' } }), status: 400, scimType: 'invalidValue' },
  { name: 'userName missing', send: () => c.post('/scim/v2/Users', { schemas: [URN.user], displayName: 'No name' }), status: 400, scimType: 'invalidValue' },
  { name: 'emails "x"', send: postUser({ emails: 'x' }), status: 400, scimType: 'invalidValue' },
  { name: 'emails [1, 2]', send: postUser({ emails: [1, 2] }), status: 400, scimType: 'invalidValue' },
  { name: 'emails [{primary: "maybe"}]', send: postUser({ emails: [{ value: 'a@x.example', primary: 'maybe' }] }), status: 400, scimType: 'invalidValue' },
  { name: 'active "maybe"', send: postUser({ active: 'maybe' }), status: 400, scimType: 'invalidValue' },
  { name: 'active 1', send: postUser({ active: 1 }), status: 400, scimType: 'invalidValue' },
  { name: 'name a string', send: postUser({ name: 'Bob' }), status: 400, scimType: 'invalidValue' },
  { name: 'schemas a string', send: postUser({ schemas: URN.user }), status: 400, scimType: 'invalidSyntax' },
  { name: 'manager not an id', send: postUser({ [URN.enterprise]: { manager: { value: 'not-a-uuid' } } }), status: 400, scimType: 'invalidValue' },
  { name: 'unknown attribute', send: postUser({ favouriteColour: 'blue' }), status: 400, scimType: 'invalidSyntax' },
  { name: 'unknown sub-attribute', send: postUser({ name: { givenName: 'A', shoeSize: '42' } }), status: 400, scimType: 'invalidSyntax' },
  { name: 'group members [{value: "not-a-uuid"}]', send: () => c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `bad-${uid()}`, members: [{ value: 'not-a-uuid' }] }), status: 400, scimType: 'invalidValue' },
  { name: 'group members naming no user', send: () => c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `ghost-${uid()}`, members: [{ value: crypto.randomUUID() }] }), status: 400, scimType: 'invalidValue' },
  { name: 'group displayName 5', send: () => c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: 5 }), status: 400, scimType: 'invalidValue' },
  { name: 'group without displayName', send: () => c.post('/scim/v2/Groups', { schemas: [URN.group] }), status: 400, scimType: 'invalidValue' },
  // Huge strings, NUL, lone surrogates
  { name: 'a 100,000-character userName', send: postUser({ userName: 'u'.repeat(100_000) }), status: 400, scimType: 'invalidValue' },
  { name: 'a 20,000-character displayName', send: postUser({ displayName: 'd'.repeat(20_000) }), status: 400, scimType: 'invalidValue' },
  { name: 'NUL in userName', send: postUser({ userName: 'nul\u0000name' }), status: 400 },
  { name: 'a lone surrogate in displayName', send: raw('POST', '/scim/v2/Users', `{"schemas":["${URN.user}"],"userName":"lone-${uid()}","displayName":"a\\ud800b"}`), status: 400 },
  { name: 'a lone surrogate in a PATCH value', send: () => c.request({ method: 'PATCH', url: `/scim/v2/Users/${user.id}`, headers: { 'content-type': 'application/scim+json' }, payload: `{"schemas":["${URN.patch}"],"Operations":[{"op":"replace","path":"title","value":"\\udc00"}]}` }), status: 400 },
  { name: 'NUL in a filter', send: list('filter=userName%20eq%20%22a%00b%22'), status: 400 },
  { name: 'a lone surrogate in a filter (invalid UTF-8)', send: list('filter=userName%20eq%20%22%ED%A0%80%22'), status: 400 },
  // Hostile filters
  { name: 'a 5,000-character filter', send: filter(`userName eq "${'x'.repeat(5000)}"`), status: 400 },
  { name: '2,000 nested parentheses', send: filter(`${'('.repeat(2000)}userName eq "x"${')'.repeat(2000)}`), status: 400, scimType: 'invalidFilter' },
  { name: '500 nested nots', send: filter(`${'not ('.repeat(500)}userName eq "x"${')'.repeat(500)}`), status: 400, scimType: 'invalidFilter' },
  { name: 'an unknown operator', send: filter('userName xx "a"'), status: 400, scimType: 'invalidFilter' },
  { name: 'or 1=1', send: filter('userName eq "a" or 1=1'), status: 400, scimType: 'invalidFilter' },
  { name: 'single-quoted value', send: filter("userName eq 'x' OR '1'='1'"), status: 400, scimType: 'invalidFilter' },
  { name: 'trailing SQL', send: filter('userName eq "a"; DROP TABLE users; --'), status: 400, scimType: 'invalidFilter' },
  { name: 'an unclosed value path', send: filter('emails[type eq "work"'), status: 400, scimType: 'invalidFilter' },
  { name: 'a value path inside a value path', send: filter('emails[emails[type eq "x"]]'), status: 400, scimType: 'invalidFilter' },
  { name: 'pr with a value', send: filter('userName pr "x"'), status: 400, scimType: 'invalidFilter' },
  { name: 'gt on a boolean', send: filter('active gt true'), status: 400, scimType: 'invalidFilter' },
  { name: 'a date that is no date', send: filter('meta.lastModified gt "not a date"'), status: 400, scimType: 'invalidFilter' },
  { name: 'an impossible date', send: filter('meta.created gt "2026-13-45T99:00:00Z"'), status: 400, scimType: 'invalidFilter' },
  { name: 'a filter on password', send: filter('password eq "secret"'), status: 400, scimType: 'invalidFilter' },
  { name: 'an unknown schema URN', send: filter('urn:example:evil:2.0:User:userName eq "x"'), status: 400, scimType: 'invalidFilter' },
  // Paging parameters
  { name: 'startIndex=abc', send: list('startIndex=abc'), status: 400, scimType: 'invalidValue' },
  { name: 'count=abc', send: list('count=abc'), status: 400, scimType: 'invalidValue' },
  { name: 'count=1e99', send: list('count=1e99'), status: 400, scimType: 'invalidValue' },
  { name: 'startIndex=1e99', send: list('startIndex=1e99'), status: 400, scimType: 'invalidValue' },
  { name: 'startIndex=99999999999999999999', send: list('startIndex=99999999999999999999'), status: 400, scimType: 'invalidValue' },
  { name: 'count=1.5', send: list('count=1.5'), status: 400, scimType: 'invalidValue' },
  { name: 'cursor and startIndex together', send: list('cursor=&startIndex=2'), status: 400, scimType: 'invalidValue' },
  { name: 'sortBy a value path', send: list(`sortBy=${encodeURIComponent('emails[type eq "work"].value')}`), status: 400, scimType: 'invalidValue' },
  { name: 'an unknown query parameter', send: list('filer=userName%20eq%20%22x%22'), status: 400 },
  // PATCH
  { name: 'PATCH with 0 operations', send: patchUser([]), status: 400, scimType: 'invalidSyntax' },
  { name: 'PATCH with 2,000 operations', send: patchUser(Array.from({ length: 2000 }, (_, i) => ({ op: 'replace', path: 'title', value: `t${i}` }))), status: 400, scimType: 'invalidSyntax' },
  { name: 'PATCH Operations "x"', send: () => c.request({ method: 'PATCH', url: `/scim/v2/Users/${user.id}`, payload: { schemas: [URN.patch], Operations: 'x' } }), status: 400, scimType: 'invalidSyntax' },
  { name: 'PATCH Operations [null]', send: patchUser([first, null]), status: 400, scimType: 'invalidSyntax' },
  { name: 'op "move"', send: patchUser([first, { op: 'move', path: 'title', value: 'x' }]), status: 400, scimType: 'invalidSyntax' },
  { name: 'op 5', send: patchUser([first, { op: 5, path: 'title', value: 'x' }]), status: 400, scimType: 'invalidSyntax' },
  { name: 'replace without value', send: patchUser([first, { op: 'replace', path: 'title' }]), status: 400, scimType: 'invalidSyntax' },
  { name: 'path 5', send: patchUser([first, { op: 'replace', path: 5, value: 'x' }]), status: 400, scimType: 'invalidPath' },
  { name: 'path to an unknown attribute', send: patchUser([first, { op: 'replace', path: 'favouriteColour', value: 'x' }]), status: 400, scimType: 'invalidPath' },
  { name: 'path to an unknown sub-attribute', send: patchUser([first, { op: 'replace', path: 'emails[type eq "work"].nosuch', value: 'x' }]), status: 400, scimType: 'invalidPath' },
  { name: 'a value filter on a single-valued attribute', send: patchUser([first, { op: 'replace', path: 'title[value eq "x"]', value: 'x' }]), status: 400, scimType: 'invalidPath' },
  { name: 'replace id', send: patchUser([first, { op: 'replace', path: 'id', value: crypto.randomUUID() }]), status: 400, scimType: 'mutability' },
  { name: 'replace meta.created', send: patchUser([first, { op: 'replace', path: 'meta.created', value: '2000-01-01T00:00:00Z' }]), status: 400, scimType: 'mutability' },
  { name: 'add groups', send: patchUser([first, { op: 'add', path: 'groups', value: [{ value: crypto.randomUUID() }] }]), status: 400, scimType: 'mutability' },
  { name: 'remove groups', send: patchUser([first, { op: 'remove', path: 'groups' }]), status: 400, scimType: 'mutability' },
  { name: 'path-less replace of id', send: patchUser([{ op: 'replace', value: { title: 'x', id: crypto.randomUUID() } }]), status: 400, scimType: 'mutability' },
  { name: 'remove without path', send: patchUser([first, { op: 'remove' }]), status: 400, scimType: 'noTarget' },
  { name: 'remove userName', send: patchUser([first, { op: 'remove', path: 'userName' }]), status: 400, scimType: 'mutability' },
  { name: 'remove password', send: patchUser([first, { op: 'remove', path: 'password' }]), status: 400, scimType: 'mutability' },
  { name: 'path-less replace with a string value', send: patchUser([first, { op: 'replace', value: 'x' }]), status: 400, scimType: 'invalidValue' },
  { name: 'replace active "maybe"', send: patchUser([first, { op: 'replace', path: 'active', value: 'maybe' }]), status: 400, scimType: 'invalidValue' },
  { name: 'replace emails with "x" objects of numbers', send: patchUser([first, { op: 'replace', path: 'emails', value: [{ value: 5, type: {} }] }]), status: 400, scimType: 'invalidValue' },
  { name: 'group: add member "not-a-uuid"', send: patchGroup([{ op: 'replace', path: 'displayName', value: 'changed' }, { op: 'add', path: 'members', value: [{ value: 'not-a-uuid' }] }]), status: 400, scimType: 'invalidValue' },
  { name: 'group: add a member naming no user', send: patchGroup([{ op: 'add', path: 'members', value: [{ value: crypto.randomUUID() }] }]), status: 400, scimType: 'invalidValue' },
  { name: 'group: replace members.value', send: patchGroup([{ op: 'replace', path: 'members.value', value: crypto.randomUUID() }]), status: 400, scimType: 'mutability' },
  { name: 'group: an unknown attribute', send: patchGroup([{ op: 'replace', path: 'owner', value: 'x' }]), status: 400, scimType: 'invalidPath' },
  { name: 'group: remove displayName', send: patchGroup([{ op: 'remove', path: 'displayName' }]), status: 400 },
  { name: 'group: remove without path', send: patchGroup([{ op: 'remove' }]), status: 400, scimType: 'noTarget' },
];

describe('SCIM attacks: a 4xx SCIM error, never a 500, and nothing changed', () => {
  for (const attack of attacks) {
    it(attack.name, async () => {
      const before = await snapshot();
      const res = await attack.send();
      expect(res.statusCode, res.body.slice(0, 500)).toBe(attack.status);
      expect(res.headers['content-type'], res.body.slice(0, 200)).toBe(SCIM_TYPE);
      const body = res.json();
      expect(body, res.body.slice(0, 500)).toMatchObject({ schemas: [URN.error], status: String(attack.status), detail: expect.any(String) });
      if (attack.scimType) expect(body.scimType, res.body.slice(0, 500)).toBe(attack.scimType);
      expect(body.detail.length).toBeLessThan(2000);
      expect(await snapshot()).toEqual(before);
    });
  }
});

describe('inputs that look hostile but are valid: answered, not refused, never a 500', () => {
  const empty = async (send: () => Promise<LightMyRequestResponse>) => {
    const res = await send();
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    expect(res.json()).toMatchObject({ totalResults: 0, Resources: [] });
  };
  it('quotes and SQL inside a string literal find nothing', async () => {
    await empty(filter('userName eq "x\\" OR 1=1 --"'));
    await empty(filter("userName eq \"x' OR '1'='1\""));
    await empty(filter('userName co "%"'));
    await empty(filter('userName sw "_"'));
    await empty(filter('displayName eq "\\\\"'));
  });
  it('ids that are not uuids (id, groups.value, manager.value, members.value) find nothing or are an invalidFilter, never a 500', async () => {
    const sends = [
      filter('id eq "not-a-uuid"'),
      filter('groups.value eq "not-a-uuid"'),
      filter(`${URN.enterprise}:manager.value eq "not-a-uuid"`),
      filter('id gt "zzz"'),
      () => c.get(`/scim/v2/Groups?filter=${encodeURIComponent('members[value eq "not-a-uuid"]')}`),
      () => c.get(`/scim/v2/Groups?filter=${encodeURIComponent('id eq "1; DROP TABLE groups"')}`),
    ];
    for (const send of sends) {
      const res = await send();
      if (res.statusCode === 200) expect(res.json()).toMatchObject({ totalResults: 0, Resources: [] });
      else expect(res.json(), res.body).toMatchObject({ schemas: [URN.error], status: '400', scimType: 'invalidFilter' });
    }
  });
});
