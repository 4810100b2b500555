/**
 * The text of a Location header. undici hands header values over as Latin-1 strings (one
 * character per byte), but a server that sends raw non-ASCII bytes there (curl's test 1138)
 * means UTF-8 nearly always: read as Latin-1, `Ø¢` would be percent-encoded again into a URL
 * that does not exist. Valid UTF-8 is decoded, and the URL parser then percent-encodes it as
 * browsers and curl do; bytes that are not UTF-8 are percent-encoded one by one, as curl does,
 * so the server gets back the very bytes it sent.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function locationText(value: string): string {
  // ASCII needs nothing; a character above U+00FF means it was never a byte string.
  if (!/[\x80-\xff]/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value.replace(/[\x80-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
}
