import { describe, expect, it } from 'vitest';
import { identifierKey } from '../../src/domain/identifier-key.js';
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
