import { AppError } from '../errors/app-error.js';

/**
 * The `scimType` values of RFC 7644 §3.12 that the SCIM filter and path parsers can raise:
 * `invalidFilter` for a `filter` parameter, `invalidPath` for a PATCH `path` (including a
 * malformed value filter inside the path).
 */
export type ScimSyntaxType = 'invalidFilter' | 'invalidPath';

/**
 * A syntax error in a SCIM filter or PATCH path. `position` is one-based, counted in UTF-16 code
 * units of the text as received, and is the same number the message shows.
 *
 * It is an AppError with the SCIM code of its kind (`scim.invalid_filter`, `scim.invalid_path`),
 * whose catalogue entry carries the same `scimType`: the SCIM error presenter reads it from there,
 * and a native route that let one escape would still answer a 400 (never a 500).
 */
export class ScimFilterError extends AppError {
  constructor(
    readonly scimType: ScimSyntaxType,
    message: string,
    readonly position?: number,
  ) {
    super(scimType === 'invalidFilter' ? 'scim.invalid_filter' : 'scim.invalid_path', message);
    this.name = 'ScimFilterError';
  }
}

/**
 * Echoes client text in a message: clipped, without splitting a surrogate pair, and with NUL and
 * lone surrogates replaced by U+FFFD so the message itself is always storable, printable JSON.
 */
export function echo(text: string, max = 40): string {
  let cut = text.length > max ? max : text.length;
  const last = text.charCodeAt(cut - 1);
  if (cut < text.length && last >= 0xd800 && last <= 0xdbff) cut--;
  const safe = text.slice(0, cut).replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return cut < text.length ? `${safe}…` : safe;
}

/** The first character of `text` for a message: printable ASCII in quotes, anything else as U+XXXX. */
export function describeChar(text: string): string {
  const code = text.codePointAt(0) ?? 0;
  return code > 0x20 && code < 0x7f ? `'${String.fromCodePoint(code)}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
