import { describe, expect, it } from 'vitest';
import { identifierKey, identifierProblem, nameProblem } from '../../src/domain/identifier-key.js';
import { isEmailAddress } from '../../src/domain/email-address.js';

describe('identifierKey (RFC 8265 UsernameCaseMapped mapping rules)', () => {
  it('maps width, then case, then NFC', () => {
    expect(identifierKey('Ju\u0308rgen')).toBe('j\u00fcrgen');
    expect(identifierKey('ＡＢＣ１２３')).toBe('abc123');
    expect(identifierKey('ｶﾞ')).toBe('ガ'); // halfwidth katakana and voiced mark compose after width mapping
    expect(identifierKey('Ａ\u0308')).toBe('ä'); // a fullwidth letter composes with a following mark
    expect(identifierKey('Straße')).toBe('straße'); // toLowerCase, not case folding
    expect(identifierKey('a\u3000b')).toBe('a b');
  });

  it('puts the domain of an email address in its Unicode form, leaving other values with @ alone', () => {
    for (const form of ['jürgen@xn--mnchen-3ya.de', 'JÜRGEN@MÜNCHEN.DE', 'Ju\u0308rgen@Mu\u0308nchen.de', 'ｊüｒｇｅｎ＠ＸＮ--mnchen-3ya.de']) {
      expect(identifierKey(form), form).toBe('jürgen@münchen.de');
    }
    expect(identifierKey('user@xn--fiqs8s.xn--55qx5d')).toBe('user@中国.公司');
    for (const value of ['a@b', 'x@xn--', 'team@HQ', '@xn--mnchen-3ya.de']) expect(identifierKey(value), value).toBe(value.toLowerCase());
    for (const value of ['jürgen@xn--mnchen-3ya.de', 'A@XN--BCHER-KVA.EXAMPLE', '用户@例子.广告']) expect(identifierKey(identifierKey(value))).toBe(identifierKey(value));
  });

  it('is idempotent on every BMP code point', () => {
    for (let c = 0; c < 0x10000; c++) {
      if (c >= 0xd800 && c < 0xe000) continue;
      const once = identifierKey(String.fromCharCode(c));
      expect(identifierKey(once), c.toString(16)).toBe(once);
    }
  });
});

describe('isEmailAddress', () => {
  it('accepts internationalised addresses (RFC 6531)', () => {
    for (const email of ['jürgen@münchen.de', '用户@例子.广告', 'first.last+tag@example.com', 'x@xn--mnchen-3ya.de', "o'neil@example.ie"]) expect(isEmailAddress(email), email).toBe(true);
  });
  it('refuses what is not a usable address', () => {
    const bad = ['plain', '@example.com', 'a@', 'a@b', 'a b@example.com', '"q"@example.com', 'a..b@example.com', '.a@example.com', 'a.@example.com', 'a@1.2.3.4',
      'a@[127.0.0.1]', 'a@-x.com', 'a@x..com', 'a\u0000b@example.com', 'x\ud800y@example.com', 'a@b@c.com', 'a\u200b@example.com', `${'ä'.repeat(33)}@example.com`, `a@${'b'.repeat(64)}.com`];
    for (const email of bad) expect(isEmailAddress(email), JSON.stringify(email)).toBe(false);
  });
});

describe('identifierProblem (RFC 8264 IdentifierClass, as RFC 8265 applies it)', () => {
  it('accepts letters and digits of any script, combining marks, printable ASCII and width variants', () => {
    for (const value of ['jürgen', 'Ju\u0308rgen', '用户', 'δοκιμή', 'アドレス', '한국어', 'ＡＢＣ', 'ｶﾞ', "a!#$%&'*+-/=?^_`{|}~.@x", 'Straße', 'l·l', '٣٤٥', '۳۴۵']) {
      expect(identifierProblem(value), value).toBeUndefined();
    }
  });
  it('refuses spaces, symbols, controls, invisible, unassigned, private-use and compatibility characters, naming the first', () => {
    const cases: [string, string][] = [
      ['ada\u200b@example.com', 'must not contain U+200B ZERO WIDTH SPACE (an invisible character)'],
      ['a\u0007b', 'must not contain U+0007 BELL (a control character)'],
      ['a\u0378b', 'must not contain U+0378 (an unassigned code point)'],
      ['a\uFDD0', 'must not contain U+FDD0 (a noncharacter)'],
      ['a\uE000', 'must not contain U+E000 (a private-use character)'],
      ['a😀', 'must not contain U+1F600 "😀" (an emoji)'],
      ['a€', 'must not contain U+20AC "€" (a symbol)'],
      ['a b', 'must not contain U+0020 SPACE (a space)'],
      ['a\u3000b', 'must not contain U+3000 IDEOGRAPHIC SPACE (a space)'],
      ['a\u00a0b', 'must not contain U+00A0 NO-BREAK SPACE (a space)'],
      ['a«b', 'must not contain U+00AB "«" (punctuation outside ASCII)'],
      ['ﬁ', 'must not contain U+FB01 "ﬁ" (a compatibility character; write "fi")'],
      ['x²', 'must not contain U+00B2 "²" (a compatibility character; write "2")'],
      ['\u1100\u1161', 'must not contain U+1100 "ᄀ" (an old Hangul jamo; write the composed syllable)'],
      ['a\u0640b', 'must not contain U+0640 "ـ" (not allowed in identifiers by RFC 5892)'],
      ['a·b', 'must not contain U+00B7 "·" (allowed only between two l, as in Catalan l·l)'],
      ['٣۴', 'must not contain U+0663 "٣" (Arabic-Indic digits must not be mixed with extended Arabic-Indic digits)'],
      ['a\u200db', 'must not contain U+200D ZERO WIDTH JOINER (an invisible character)'],
    ];
    for (const [value, message] of cases) expect(identifierProblem(value), JSON.stringify(value)).toBe(message);
  });
});

describe('nameProblem (display-like unique names)', () => {
  it('accepts spaces, punctuation and symbols', () => {
    for (const value of ['Sales Team', 'R&D / Ops (EMEA)', 'Café ☕', '«Ärzte»', 'a\u3000b']) expect(nameProblem(value), value).toBeUndefined();
  });
  it('refuses what is never text', () => {
    const cases: [string, string][] = [['a\u0007', 'U+0007'], ['a\u200b', 'U+200B'], ['a\u0378', 'U+0378'], ['a\uE000', 'U+E000'], ['a\u2028', 'U+2028'], ['a\u2029', 'U+2029'], ['a\ud800', 'U+D800']];
    for (const [value, cp] of cases) {
      expect(nameProblem(value), JSON.stringify(value)).toMatch(new RegExp(`^must not contain ${cp.replace('+', '\\+')} `));
    }
  });
});
