import type { FieldError } from '../errors/app-error.js';

/**
 * Fullwidth and halfwidth code points: U+3000 IDEOGRAPHIC SPACE and the Halfwidth and Fullwidth
 * Forms block, the characters whose Unicode decomposition is tagged <wide> or <narrow>
 * (unassigned code points in the range have no decomposition and are left as they are).
 */
const WIDTH_VARIANT = /[\u3000\uFF01-\uFFEE]/g;

/**
 * The form in which identifiers and unique names are compared and stored in their lowercased
 * copies (userName, email, directory names, codes and aliases, external ids): the mapping rules
 * of the PRECIS UsernameCaseMapped profile, RFC 8265 §3.3.2, in its order:
 *  1. width mapping: fullwidth and halfwidth characters to their decomposition (`ａｂｃ` → `abc`);
 *  2. case mapping: Unicode toLowerCase (locale-independent; `ß` stays `ß`);
 *  3. normalization: NFC (`ü` written as u + U+0308 becomes U+00FC).
 * So `Jürgen` in NFC or NFD and `ＪＵＲＧＥＮ` compare as they read. The profile's character
 * restrictions (no spaces, …) are not applied: display names such as `Sales Team` are names,
 * not usernames. The value a client sent is kept as it was; only the comparison copy is mapped.
 * Idempotent: identifierKey(identifierKey(x)) === identifierKey(x).
 */
export function identifierKey(value: string): string {
  return value.replace(WIDTH_VARIANT, (c) => c.normalize('NFKC')).toLowerCase().normalize('NFC');
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
