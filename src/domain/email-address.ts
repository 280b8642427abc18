import { domainToASCII, domainToUnicode } from 'node:url';

/**
 * A local part: dot-atoms (RFC 5322 §3.2.3) whose atext also admits every non-ASCII character
 * (RFC 6531 §3.3, `atext =/ UTF8-non-ascii`). Quoted local parts are refused: legal, but in
 * practice a typo far more often than an address.
 */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u;
/** Control, format, surrogate, private-use and unassigned code points, and every kind of space. */
const INVISIBLE = /[\p{C}\p{Z}]/u;
/** A host name label in its ASCII (A-label) form: letters, digits, inner hyphens (RFC 1123 §2.1). */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');
/**
 * A plain ASCII host name ending in a letters-only label, with no A-label (`xn--`): UTS #46 maps
 * it to its lower case both ways, so the IDNA calls can be skipped (most addresses are these).
 */
const PLAIN_ASCII_DOMAIN = /^(?:[a-z0-9-]+\.)+[a-z]{2,63}$/i;
const A_LABEL = /(?:^|\.)xn--/i;
const idnaAscii = (domain: string): string => (PLAIN_ASCII_DOMAIN.test(domain) && !A_LABEL.test(domain) ? domain.toLowerCase() : domainToASCII(domain));
const idnaUnicode = (domain: string): string => (PLAIN_ASCII_DOMAIN.test(domain) && !A_LABEL.test(domain) ? domain.toLowerCase() : domainToUnicode(domain));

/**
 * Whether `value` is a usable email address, internationalised ones included (RFC 6531/6532:
 * `jürgen@münchen.de`, `用户@例子.广告`): `local@domain` where the local part is at most 64
 * octets of dot-atoms (any non-ASCII letter allowed), and the domain a host name of at least two
 * labels whose IDNA ASCII form (UTS #46, as browsers resolve it) has letter-digit-hyphen labels of
 * at most 63 octets, at most 253 in all, and a top-level label that is not all digits. Refused:
 * quoted local parts, IP-address literals, spaces, control and invisible characters.
 * Permissive on purpose: whether a mailbox exists is for the mail system to say.
 */
export function isEmailAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1 || INVISIBLE.test(value)) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (utf8Length(local) > 64 || !LOCAL_PART.test(local)) return false;
  const ascii = idnaAscii(domain);
  if (ascii === '' || ascii.length > 253) return false;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LDH_LABEL.test(label))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1] as string);
}

/**
 * The domain of an email address in the one form it is compared in, its Unicode form (UTS #46,
 * as `node:url` maps it): `xn--mnchen-3ya.de`, `MÜNCHEN.DE` and `münchen.de` are one domain, so
 * `jürgen@xn--mnchen-3ya.de` and `jürgen@münchen.de` are one mailbox. Undefined when `value` is
 * not an email address (isEmailAddress). Used by identifierKey for the comparison copy of an
 * email and of a userName that is one; the value sent is kept for display.
 */
export function emailDomainKey(value: string): string | undefined {
  if (!isEmailAddress(value)) return undefined;
  const unicode = idnaUnicode(value.slice(value.lastIndexOf('@') + 1));
  return unicode === '' ? undefined : unicode;
}
