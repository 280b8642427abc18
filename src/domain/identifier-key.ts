import type { FieldError } from '../errors/app-error.js';
import { emailDomainKey } from './email-address.js';

/**
 * Fullwidth and halfwidth code points: U+3000 IDEOGRAPHIC SPACE and the Halfwidth and Fullwidth
 * Forms block, the characters whose Unicode decomposition is tagged <wide> or <narrow>
 * (unassigned code points in the range have no decomposition and are left as they are).
 */
const WIDTH_VARIANT = /[\u3000\uFF01-\uFFEE]/g;

/** Only ASCII: width mapping and NFC leave it as it is (the common case, checked first). */
const ASCII = /^[\x00-\x7f]*$/;
/** Printable ASCII without the space: every one of these is valid in the IdentifierClass (RFC 8264 §9.11 ASCII7). */
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/** The RFC 8265 §3.3.2 mapping rules: width, then case, then NFC. */
const mapped = (value: string): string =>
  ASCII.test(value) ? value.toLowerCase() : value.replace(WIDTH_VARIANT, (c) => c.normalize('NFKC')).toLowerCase().normalize('NFC');

/**
 * The form in which identifiers and unique names are compared and stored in their lowercased
 * copies (userName, email, directory names, codes and aliases, external ids): the mapping rules
 * of the PRECIS UsernameCaseMapped profile, RFC 8265 §3.3.2, in its order:
 *  1. width mapping: fullwidth and halfwidth characters to their decomposition (`ａｂｃ` → `abc`);
 *  2. case mapping: Unicode toLowerCase (locale-independent; `ß` stays `ß`);
 *  3. normalization: NFC (`ü` written as u + U+0308 becomes U+00FC).
 * So `Jürgen` in NFC or NFD and `ＪＵＲＧＥＮ` compare as they read. A value that is an email
 * address then has its domain in one form, its Unicode one (`jürgen@xn--mnchen-3ya.de` compares as
 * `jürgen@münchen.de`, the same mailbox: domain/email-address.ts), for an email and for a userName
 * that is (or defaults to) one. Which characters a value may hold is checked on writes
 * (`identifierProblem`, `nameProblem`), not here: lookups and filters map any text. The value a
 * client sent is kept as it was; only the comparison copy is mapped.
 * Idempotent: identifierKey(identifierKey(x)) === identifierKey(x).
 */
export function identifierKey(value: string): string {
  const key = mapped(value);
  const at = key.lastIndexOf('@');
  if (at <= 0) return key;
  const domain = emailDomainKey(key);
  return domain === undefined ? key : `${key.slice(0, at + 1)}${mapped(domain)}`;
}

/**
 * The problems of an {origin, key} list that names one external id twice, compared as stored
 * (identifierKey of each part), so `HR`/`ｈｒ` and `hr` are the same origin: one error per repeat,
 * at `/body/<field>/<index>`.
 */
export function duplicateExternalIds(field: string, externalIds: readonly { origin: string; key: string }[]): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  externalIds.forEach((e, i) => {
    const id = JSON.stringify([identifierKey(e.origin), identifierKey(e.key)]);
    if (seen.has(id)) errors.push({ field: `/body/${field}/${i}`, message: `duplicate external id {origin: ${e.origin}, key: ${e.key}}` });
    seen.add(id);
  });
  return errors;
}

/**
 * The {origin, key} parts of an external id list that are not identifiers (identifierProblem),
 * at `/body/<field>/<index>/origin|key`; ids already in `stored` (the same origin and key as
 * sent) are not judged again.
 */
export function externalIdProblems(
  field: string,
  externalIds: readonly { origin: string; key: string }[],
  stored: readonly { origin: string; key: string }[] = [],
): FieldError[] {
  const errors: FieldError[] = [];
  externalIds.forEach((e, i) => {
    if (stored.some((s) => s.origin === e.origin && s.key === e.key)) return;
    for (const part of ['origin', 'key'] as const) {
      const problem = identifierProblem(e[part]);
      if (problem !== undefined) errors.push({ field: `/body/${field}/${i}/${part}`, message: problem });
    }
  });
  return errors;
}

/**
 * Which characters a text field holds:
 * - `identifier`: the IdentifierClass of RFC 8264 §4.2 as RFC 8265 §3.3 (UsernameCaseMapped)
 *   applies it: letters and digits of any script, combining marks, printable ASCII; no spaces,
 *   symbols (emoji), punctuation outside ASCII, controls, invisible (format, default-ignorable)
 *   or unassigned code points, compatibility characters (`ﬁ`, `²`), old Hangul jamo.
 * - `name`: a display-like unique name (`Sales Team`, `R&D / Ops`): anything that is text; only
 *   what never is (controls Cc, format Cf, unassigned Cn, private use Co, surrogates Cs, line and
 *   paragraph separators Zl/Zp) is refused, since it makes two names that look the same differ.
 */
export type TextClass = 'identifier' | 'name';

/** Never text: refused in names and identifiers alike. Noncharacters (U+FDD0, U+FFFF) are Cn. */
const NEVER_TEXT = /[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u;
/** RFC 8264 §9.1 LetterDigits: Ll Lu Lo Nd Lm Mn Mc; §9.11 ASCII7: U+0021–U+007E. */
const LETTER_DIGIT_OR_ASCII = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}\u0021-\u007E]$/u;
/** Spaces, symbols and punctuation: named by their category even when they also have a compatibility form (U+00A0). */
const SPACE_SYMBOL_OR_PUNCTUATION = /[\p{Z}\p{S}\p{P}]/u;
/** RFC 8264 §9.13 Ignorable (Default_Ignorable_Code_Point, which includes U+115F, U+3164 …). */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
/** RFC 8264 §9.12 OldHangulJamo: Hangul_Syllable_Type L, V or T (conjoining jamo blocks). */
const OLD_HANGUL_JAMO = /[\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]/u;
/** RFC 5892 §2.6 Exceptions that are DISALLOWED though their category is a letter: tatweel, NKo lajanyalan, Hangul/kana marks. */
const DISALLOWED_EXCEPTIONS = new Set([0x0640, 0x07fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b]);
/** RFC 5892 §2.6 Exceptions that are PVALID whatever their category (U+06FD, U+06FE and U+0F0B are not letters). */
const PVALID_EXCEPTIONS = /[\u00DF\u03C2\u06FD\u06FE\u0F0B\u3007]/u;

/** The names of the characters people paste by accident, for messages; others are shown by category. */
const NAMES: Readonly<Record<number, string>> = {
  0x0000: 'NULL', 0x0007: 'BELL', 0x0008: 'BACKSPACE', 0x0009: 'CHARACTER TABULATION', 0x000a: 'LINE FEED', 0x000b: 'LINE TABULATION',
  0x000c: 'FORM FEED', 0x000d: 'CARRIAGE RETURN', 0x001b: 'ESCAPE', 0x0020: 'SPACE', 0x007f: 'DELETE', 0x0085: 'NEXT LINE',
  0x00a0: 'NO-BREAK SPACE', 0x00ad: 'SOFT HYPHEN', 0x034f: 'COMBINING GRAPHEME JOINER', 0x061c: 'ARABIC LETTER MARK',
  0x115f: 'HANGUL CHOSEONG FILLER', 0x1160: 'HANGUL JUNGSEONG FILLER', 0x180e: 'MONGOLIAN VOWEL SEPARATOR', 0x2007: 'FIGURE SPACE',
  0x2009: 'THIN SPACE', 0x200a: 'HAIR SPACE', 0x200b: 'ZERO WIDTH SPACE', 0x200c: 'ZERO WIDTH NON-JOINER', 0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK', 0x200f: 'RIGHT-TO-LEFT MARK', 0x2028: 'LINE SEPARATOR', 0x2029: 'PARAGRAPH SEPARATOR',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING', 0x202b: 'RIGHT-TO-LEFT EMBEDDING', 0x202c: 'POP DIRECTIONAL FORMATTING', 0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE', 0x202f: 'NARROW NO-BREAK SPACE', 0x205f: 'MEDIUM MATHEMATICAL SPACE', 0x2060: 'WORD JOINER',
  0x2061: 'FUNCTION APPLICATION', 0x2062: 'INVISIBLE TIMES', 0x2063: 'INVISIBLE SEPARATOR', 0x2064: 'INVISIBLE PLUS',
  0x2066: 'LEFT-TO-RIGHT ISOLATE', 0x2067: 'RIGHT-TO-LEFT ISOLATE', 0x2068: 'FIRST STRONG ISOLATE', 0x2069: 'POP DIRECTIONAL ISOLATE',
  0x3000: 'IDEOGRAPHIC SPACE', 0x3164: 'HANGUL FILLER', 0xfeff: 'ZERO WIDTH NO-BREAK SPACE', 0xffa0: 'HALFWIDTH HANGUL FILLER',
  0xfffc: 'OBJECT REPLACEMENT CHARACTER', 0xfffd: 'REPLACEMENT CHARACTER',
};

/** What kind of character `c` is, in words, for a message (the first test that matches). */
const KINDS: readonly [RegExp, string][] = [
  [/\p{Cc}/u, 'a control character'],
  [/[\p{Cf}\p{Default_Ignorable_Code_Point}]/u, 'an invisible character'],
  [/\p{Noncharacter_Code_Point}/u, 'a noncharacter'],
  [/\p{Cn}/u, 'an unassigned code point'],
  [/\p{Co}/u, 'a private-use character'],
  [/\p{Cs}/u, 'a lone surrogate'],
  [/[\p{Zl}\p{Zp}]/u, 'a line or paragraph separator'],
  [/\p{Zs}/u, 'a space'],
  [/\p{Extended_Pictographic}/u, 'an emoji'],
  [/\p{S}/u, 'a symbol'],
  [/\p{P}/u, 'punctuation outside ASCII'],
];

/** `U+200B ZERO WIDTH SPACE (an invisible character)`, `U+1F600 "😀" (an emoji)`. */
function describe(c: string, reason?: string): string {
  const cp = c.codePointAt(0) as number;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const kind = reason ?? KINDS.find(([re]) => re.test(c))?.[1] ?? 'not a letter, digit or printable ASCII character';
  const shown = NAMES[cp] ?? (NEVER_TEXT.test(c) || IGNORABLE.test(c) ? undefined : JSON.stringify(c));
  return `${hex}${shown === undefined ? '' : ` ${shown}`} (${kind})`;
}

/**
 * Why `value` is not an acceptable identifier (RFC 8265 §3.3 / RFC 8264 §4.2 IdentifierClass),
 * or undefined when it is. Each code point is judged after the profile's width and case mapping,
 * as the RFC orders it (so fullwidth `ＡＢＣ` is fine, U+3000 IDEOGRAPHIC SPACE is a space), and
 * the message names the code point as sent. Contextual rules of RFC 5892 Appendix A are applied
 * for the middle dot (`l·l`), Greek keraia, Hebrew geresh/gershayim, the katakana middle dot and
 * the two sets of Arabic-Indic digits; U+200C/U+200D (CONTEXTJ) are refused with every format
 * character, since their rule needs joining types JavaScript does not expose. Not applied: the
 * bidi rule (RFC 5893). Unassigned means unassigned in the Unicode version of the running Node.
 */
export function identifierProblem(value: string): string | undefined {
  if (PRINTABLE_ASCII.test(value)) return undefined;
  const chars = [...value];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    for (const m of mapped(c)) {
      const reason = identifierCharProblem(m, chars, i);
      if (reason !== undefined) return `must not contain ${describe(c, reason === '' ? undefined : reason)}`;
    }
  }
  return undefined;
}

/** '' when `m` (a mapped code point of chars[i]) is disallowed for its category; a reason for the special cases; undefined when valid. */
function identifierCharProblem(m: string, chars: readonly string[], i: number): string | undefined {
  const contextual = contextRule(m, chars, i);
  if (contextual !== undefined) return contextual || undefined;
  if (NEVER_TEXT.test(m) || IGNORABLE.test(m)) return '';
  if (DISALLOWED_EXCEPTIONS.has(m.codePointAt(0) as number)) return 'not allowed in identifiers by RFC 5892';
  if (OLD_HANGUL_JAMO.test(m)) return 'an old Hangul jamo; write the composed syllable';
  if (PVALID_EXCEPTIONS.test(m)) return undefined;
  if (SPACE_SYMBOL_OR_PUNCTUATION.test(m) && !LETTER_DIGIT_OR_ASCII.test(m)) return '';
  // RFC 8264 §9.17 HasCompat: a character whose compatibility form differs, e.g. U+FB01 "ﬁ" is "fi".
  const compat = m.normalize('NFKC');
  if (compat !== m.normalize('NFC')) return `a compatibility character; write ${JSON.stringify(compat)}`;
  return LETTER_DIGIT_OR_ASCII.test(m) ? undefined : '';
}

const GREEK = /\p{Script=Greek}/u;
const HEBREW = /\p{Script=Hebrew}/u;
const KANA_OR_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;

/**
 * RFC 5892 Appendix A CONTEXTO rules: undefined when `m` has none, '' when its context allows it,
 * a reason when not. Judged on the characters as sent, lowercased.
 */
function contextRule(m: string, chars: readonly string[], i: number): string | undefined {
  const before = (chars[i - 1] ?? '').toLowerCase();
  const after = (chars[i + 1] ?? '').toLowerCase();
  switch (m) {
    case '\u00B7':
      return before === 'l' && after === 'l' ? '' : 'allowed only between two l, as in Catalan l·l';
    case '\u0375':
      return GREEK.test(after) ? '' : 'allowed only before a Greek letter';
    case '\u05F3':
    case '\u05F4':
      return HEBREW.test(before) ? '' : 'allowed only after a Hebrew letter';
    case '\u30FB':
      return chars.some((c) => c !== '\u30FB' && KANA_OR_HAN.test(c)) ? '' : 'allowed only with Hiragana, Katakana or Han characters';
  }
  if (/[\u0660-\u0669]/.test(m) && chars.some((c) => /[\u06F0-\u06F9]/.test(c))) return 'Arabic-Indic digits must not be mixed with extended Arabic-Indic digits';
  if (/[\u06F0-\u06F9]/.test(m) && chars.some((c) => /[\u0660-\u0669]/.test(c))) return 'extended Arabic-Indic digits must not be mixed with Arabic-Indic digits';
  return undefined;
}

/**
 * Why `value` is not an acceptable display-like unique name (a group or role name), or
 * undefined: only what is never text is refused (controls, format characters, unassigned,
 * private use, surrogates, line/paragraph separators); spaces, punctuation and symbols are fine.
 */
export function nameProblem(value: string): string | undefined {
  for (const c of value) if (NEVER_TEXT.test(c)) return `must not contain ${describe(c)}`;
  return undefined;
}

/** The problem of `value` for its text class, or undefined. */
export function textProblem(textClass: TextClass, value: string): string | undefined {
  return textClass === 'identifier' ? identifierProblem(value) : nameProblem(value);
}
