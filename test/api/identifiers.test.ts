import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let token: string;
useTestApp((app, admin) => {
  t = app;
  token = admin;
});

const NFD = (s: string) => s.normalize('NFD');
const NFC = (s: string) => s.normalize('NFC');
/** ASCII letters and digits to their fullwidth forms (U+FF01…): `abc` → `ａｂｃ`. */
const wide = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

const post = (url: string, payload: unknown) => t.request({ method: 'POST', url, token, payload: payload as Record<string, unknown> });
const get = (url: string) => t.request({ method: 'GET', url, token });
const filter = (path: string, expression: string) => get(`${path}?$filter=${encodeURIComponent(expression)}`);
const ids = (res: { json(): { items: { id: string }[] } }) => res.json().items.map((i) => i.id);

describe('userName and email compare as RFC 8265 prescribes (width, case, NFC), and keep what was sent', () => {
  it('jürgen in NFC, NFD and fullwidth upper case is one userName', async () => {
    const created = await post('/v1/users', { userName: NFC('jürgen') });
    expect(created.statusCode).toBe(201);
    for (const userName of [NFD('jürgen'), NFD('JÜRGEN'), wide('JU') + '\u0308' + wide('RGEN'), NFC('JÜRGEN')]) {
      const again = await post('/v1/users', { userName });
      expect(again.statusCode, userName).toBe(409);
      expect(again.json().code).toBe('user.username_taken');
    }
    for (const userName of [NFD('Jürgen'), wide('JU') + '\u0308' + wide('RGEN')]) {
      const found = await get(`/v1/users/by-username/${encodeURIComponent(userName)}`);
      expect(found.statusCode, userName).toBe(200);
      expect(found.json().id).toBe(created.json().id);
      // What was sent is what is shown.
      expect(found.json().userName).toBe(NFC('jürgen'));
      expect(ids(await filter('/v1/users', `userName eq '${userName}'`))).toEqual([created.json().id]);
    }
    expect(ids(await filter('/v1/users', `startswith(userName,'${NFD('JÜ')}')`))).toEqual([created.json().id]);
    expect(ids(await filter('/v1/users', `contains(userName,'${wide('RGE')}')`))).toEqual([created.json().id]);
  });

  it('fullwidth ａｂｃ and abc are one userName, and the sent form is kept', async () => {
    const created = await post('/v1/users', { userName: wide('abc') });
    expect(created.json().userName).toBe(wide('abc'));
    expect((await post('/v1/users', { userName: 'ABC' })).statusCode).toBe(409);
    expect((await get('/v1/users/by-username/abc')).json().id).toBe(created.json().id);
    // Renaming to another form of the same identifier is allowed for the user who holds it, not for anyone else.
    const renamed = await t.request({ method: 'PATCH', url: `/v1/users/${created.json().id}`, token, payload: { userName: 'Abc' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().userName).toBe('Abc');
    const other = (await post('/v1/users', { userName: 'someone-else' })).json();
    const stolen = await t.request({ method: 'PATCH', url: `/v1/users/${other.id}`, token, payload: { userName: wide('ABC') } });
    expect(stolen.statusCode).toBe(409);
  });

  it('accepts internationalised email addresses (RFC 6531/6532) and finds them in any form', async () => {
    const created = await post('/v1/users', { email: 'jürgen@münchen.de' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ email: 'jürgen@münchen.de', userName: 'jürgen@münchen.de' });
    const again = await post('/v1/users', { email: NFD('JÜRGEN@MÜNCHEN.DE') });
    expect(again.statusCode).toBe(409);
    expect(ids(await filter('/v1/users', `email eq '${NFD('Jürgen@München.de')}'`))).toEqual([created.json().id]);
    for (const email of ['用户@例子.广告', 'δοκιμή@παράδειγμα.δοκιμή', 'アドレス@ドメイン.jp', "o'brien+tag@example.ie"]) {
      const res = await post('/v1/users', { email });
      expect(res.statusCode, `${email}: ${res.body}`).toBe(201);
      expect(res.json().email).toBe(email);
    }
  });

  it('still refuses what is not an email address', async () => {
    for (const email of ['not-an-email', 'a b@example.com', 'a@b', 'a@[127.0.0.1]', '"q"@example.com', 'a..b@example.com', 'a\u200b@example.com', 'jürgen@münchen..de']) {
      const res = await post('/v1/users', { userName: `bad-${Math.random()}`, email });
      expect(res.statusCode, email).toBe(400);
      expect(res.json().errors[0].field).toBe('/body/email');
    }
  });
});

describe('directory names, codes and aliases compare the same way', () => {
  const kinds = [
    { path: 'groups', field: 'name', code: 'group.name_taken', base: {} },
    { path: 'roles', field: 'name', code: 'role.name_taken', base: {} },
    { path: 'environments', field: 'name', code: 'environment.name_taken', base: {} },
    { path: 'organizations', field: 'code', code: 'organization.code_taken', base: { name: 'Org' } },
    { path: 'identity-providers', field: 'alias', code: 'identity_provider.alias_taken', base: { name: 'IdP', type: 'oidc' } },
    { path: 'identification-types', field: 'code', code: 'identification_type.code_taken', base: { name: 'Id type' } },
  ];
  for (const kind of kinds) {
    it(`${kind.path}: ${kind.field} Büro in NFC, NFD or fullwidth is one value`, async () => {
      const nameless = kind.field === 'name' ? {} : { name: kind.base.name };
      const value = NFC(`Büro-${kind.path}`);
      const created = await post(`/v1/${kind.path}`, { ...kind.base, ...nameless, [kind.field]: value });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()[kind.field]).toBe(value);
      for (const variant of [NFD(value), NFD(value.toUpperCase()), wide('BU') + '\u0308' + wide(`RO-${kind.path.toUpperCase()}`)]) {
        const again = await post(`/v1/${kind.path}`, { ...kind.base, ...nameless, [kind.field]: variant });
        expect(again.statusCode, variant).toBe(409);
        expect(again.json().code).toBe(kind.code);
        expect(ids(await filter(`/v1/${kind.path}`, `${kind.field} eq '${variant}'`))).toEqual([created.json().id]);
      }
    });
  }

  it('membership filters on users compare directory names the same way', async () => {
    const group = (await post('/v1/groups', { name: NFD('Ärzte') })).json();
    const user = (await post('/v1/users', { userName: 'doctor' })).json();
    await t.request({ method: 'POST', url: `/v1/users/${user.id}/groups/${group.id}`, token });
    for (const name of [NFC('ärzte'), NFD('ÄRZTE')]) expect(ids(await filter('/v1/users', `groups/any(g: g/name eq '${name}')`))).toEqual([user.id]);
  });
});

describe('external ids compare the same way, for users and groups', () => {
  it('a user external id is unique and found in any form', async () => {
    const created = await post('/v1/users', { userName: 'ext-1', externalIds: [{ origin: wide('HR'), key: NFD('Ö-17') }] });
    expect(created.statusCode).toBe(201);
    expect(created.json().externalIds).toEqual([{ origin: wide('HR'), key: NFD('Ö-17') }]);
    const taken = await post('/v1/users', { userName: 'ext-2', externalIds: [{ origin: 'hr', key: NFC('ö-17') }] });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('user.external_id_taken');
    for (const [origin, key] of [['hr', NFC('ö-17')], ['HR', NFD('Ö-17')], [wide('hr'), NFC('Ö-17')]]) {
      const found = await get(`/v1/users/by-external-id/${encodeURIComponent(origin as string)}/${encodeURIComponent(key as string)}`);
      expect(found.statusCode, `${origin}/${key}`).toBe(200);
      expect(found.json().id).toBe(created.json().id);
      expect(ids(await filter('/v1/users', `externalIds/any(e: e/origin eq '${origin}' and e/key eq '${key}')`))).toEqual([created.json().id]);
    }
    const twice = await post('/v1/users', { userName: 'ext-3', externalIds: [{ origin: 'sap', key: 'K1' }, { origin: 'SAP', key: wide('k1') }] });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors[0].field).toBe('/body/externalIds/1');
  });

  it('a group external id is unique in any form', async () => {
    const created = await post('/v1/groups', { name: 'ext-group', externalIds: [{ origin: 'Entra', key: 'ABC-DEF' }] });
    expect(created.statusCode).toBe(201);
    const taken = await post('/v1/groups', { name: 'ext-group-2', externalIds: [{ origin: 'entra', key: wide('abc-def') }] });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('group.external_id_taken');
    const twice = await post('/v1/groups', { name: 'ext-group-3', externalIds: [{ origin: 'x', key: NFC('é') }, { origin: 'X', key: NFD('É') }] });
    expect(twice.statusCode).toBe(400);
  });
});

describe('identifiers hold only what RFC 8265 allows (IdentifierClass); names refuse only what is never text', () => {
  const patch = (url: string, payload: unknown) => t.request({ method: 'PATCH', url, token, payload: payload as Record<string, unknown> });
  const expectRefused = (res: { statusCode: number; body: string; json(): { errors: { field: string; message: string }[] } }, field: string, message: string) => {
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors).toContainEqual({ field, message: expect.stringContaining(message) });
  };

  it('refuses a userName with an invisible, control, unassigned or emoji character, naming the code point', async () => {
    expect((await post('/v1/users', { email: 'ada@example.com' })).statusCode).toBe(201);
    const lookalike = await post('/v1/users', { email: 'zz1@example.com', userName: 'ada\u200b@example.com' });
    expectRefused(lookalike, '/body/userName', 'must not contain U+200B ZERO WIDTH SPACE (an invisible character)');
    expectRefused(await post('/v1/users', { userName: 'a\u0007b' }), '/body/userName', 'U+0007 BELL (a control character)');
    expectRefused(await post('/v1/users', { userName: 'a\u0378b' }), '/body/userName', 'U+0378 (an unassigned code point)');
    expectRefused(await post('/v1/users', { userName: 'ada😀' }), '/body/userName', 'U+1F600 "😀" (an emoji)');
    expectRefused(await post('/v1/users', { userName: 'ada lovelace' }), '/body/userName', 'U+0020 SPACE (a space)');
    expectRefused(await post('/v1/users', { userName: 'ﬁnance' }), '/body/userName', 'U+FB01 "ﬁ" (a compatibility character; write "fi")');
    // Nothing was written, and letters of any script, fullwidth forms and printable ASCII stay allowed.
    expect((await get(`/v1/users/by-username/${encodeURIComponent('ada\u200b@example.com')}`)).statusCode).toBe(404);
    for (const userName of ['用户名', wide('Wide-Name'), "o'brien+tag_1.x@host", 'l·l-catalan', 'Straße']) {
      const res = await post('/v1/users', { userName });
      expect(res.statusCode, `${userName}: ${res.body}`).toBe(201);
    }
  });

  it('refuses them in userName changes, and does not judge again a value already stored', async () => {
    const user = (await post('/v1/users', { userName: 'clean-name' })).json();
    expectRefused(await patch(`/v1/users/${user.id}`, { userName: 'clean\u2060name' }), '/body/userName', 'U+2060 WORD JOINER');
    // A userName stored before the rule (written here behind the API's back) does not block other changes.
    await t.runtime.database.db.updateTable('users').set({ user_name: 'legacy\u200bname', user_name_lower: 'legacy\u200bname' }).where('id', '=', user.id).execute();
    const titled = await patch(`/v1/users/${user.id}`, { title: 'Engineer' });
    expect(titled.statusCode, titled.body).toBe(200);
    expect(titled.json().userName).toBe('legacy\u200bname');
  });

  it('a userName taken from the email is judged as the email', async () => {
    expectRefused(await post('/v1/users', { email: '😀@example.com' }), '/body/email', 'U+1F600');
  });

  it('refuses them in codes, aliases and external ids of users and groups', async () => {
    expectRefused(await post('/v1/organizations', { name: 'Org', code: 'ACME\u200b' }), '/body/code', 'U+200B ZERO WIDTH SPACE');
    expectRefused(await post('/v1/identification-types', { name: 'Passport', code: 'pass port' }), '/body/code', 'U+0020 SPACE');
    expectRefused(await post('/v1/identity-providers', { name: 'IdP', type: 'oidc', alias: 'entra\u00ad' }), '/body/alias', 'U+00AD SOFT HYPHEN');
    expectRefused(await post('/v1/users', { userName: 'ext-bad', externalIds: [{ origin: 'hr', key: 'K\u202e1' }] }), '/body/externalIds/0/key', 'U+202E RIGHT-TO-LEFT OVERRIDE');
    expectRefused(await post('/v1/groups', { name: 'ext-bad', externalIds: [{ origin: 'entra\u0007', key: 'k' }] }), '/body/externalIds/0/origin', 'U+0007 BELL');
    const org = await post('/v1/organizations', { name: 'Org', code: 'ACME-1' });
    expect(org.statusCode, org.body).toBe(201);
    expectRefused(await patch(`/v1/organizations/${org.json().id}`, { code: 'ACME-\uE000' }), '/body/code', 'U+E000 (a private-use character)');
  });

  it('directory names may hold spaces, punctuation and symbols, but not what is never text', async () => {
    for (const name of ['Sales Team', 'R&D / Ops (EMEA)', 'Café ☕ Club', 'Ｓｐａｃｅｄ　Ｏｕｔ']) {
      const res = await post('/v1/groups', { name });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(201);
    }
    expectRefused(await post('/v1/groups', { name: 'Sales\u200bTeam' }), '/body/name', 'U+200B ZERO WIDTH SPACE (an invisible character)');
    expectRefused(await post('/v1/roles', { name: 'Admin\u0007' }), '/body/name', 'U+0007 BELL (a control character)');
    expectRefused(await post('/v1/environments', { name: 'Prod\u0378' }), '/body/name', 'U+0378 (an unassigned code point)');
    expectRefused(await post('/v1/areas', { name: 'Area\uE000' }), '/body/name', 'U+E000 (a private-use character)');
    expectRefused(await post('/v1/positions', { name: 'Line\u2028Break' }), '/body/name', 'U+2028 LINE SEPARATOR');
  });
});

describe('the domain of an email address compares in one form (Unicode), whatever form was sent', () => {
  it('jürgen@xn--mnchen-3ya.de is the mailbox jürgen@münchen.de: a 409 naming email, and found by either form', async () => {
    const created = await post('/v1/users', { email: 'idn@münchen.de' });
    expect(created.statusCode, created.body).toBe(201);
    const again = await post('/v1/users', { email: 'idn@xn--mnchen-3ya.de' });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().errors[0].field).toBe('/body/email');
    expect((await post('/v1/users', { email: 'IDN@XN--MNCHEN-3YA.DE' })).statusCode).toBe(409);
    for (const form of ['idn@xn--mnchen-3ya.de', 'IDN@MÜNCHEN.DE', NFD('idn@münchen.de')]) {
      expect((await get(`/v1/users/by-username/${encodeURIComponent(form)}`)).json().id, form).toBe(created.json().id);
      expect(ids(await filter('/v1/users', `email eq '${form}'`)), form).toEqual([created.json().id]);
    }
  });

  it('keeps the form that was sent for display, and the other order is a 409 too', async () => {
    const created = await post('/v1/users', { email: 'puny@xn--bcher-kva.example' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ email: 'puny@xn--bcher-kva.example', userName: 'puny@xn--bcher-kva.example' });
    const again = await post('/v1/users', { email: 'puny@bücher.example' });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().errors[0].field).toBe('/body/email');
    // email itself is not unique: with a userName of its own the same mailbox is accepted, and both are found by either form.
    const second = await post('/v1/users', { userName: 'puny-2', email: 'puny@bücher.example' });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json().email).toBe('puny@bücher.example');
    expect(ids(await filter('/v1/users', `email eq 'puny@xn--bcher-kva.example'`)).sort()).toEqual([created.json().id, second.json().id].sort());
  });
});
