/**
 * Turns a server-suggested name (Content-Disposition or the URL path) into a safe base name
 * in the target directory: no separators, no traversal, no control or bidi characters,
 * no reserved Windows device names, at most 255 bytes (catalogue cases 44-45).
 */
import { DownloadError } from '../errors.js';

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
// C0/C1 controls, DEL, and bidirectional overrides that disguise extensions (U+202E and friends).
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The filename parameter of a Content-Disposition value (RFC 6266), preferring `filename*`. */
export function filenameFromDisposition(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const extended = /(?:^|;)\s*filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(value);
  if (extended?.[2] !== undefined) {
    const decoded = decodeExtended(extended[1]!.trim(), extended[2].trim());
    if (decoded !== undefined) return decoded;
  }
  // A quoted name with no closing quote (`filename="bar`) runs to the end of the value, as curl
  // reads it: the stray quote is dropped rather than saved as part of the name (`"bar`).
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;]+))/i.exec(value);
  const raw = plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

/** RFC 8187 ext-value: percent-encoded bytes in UTF-8 or ISO-8859-1. */
function decodeExtended(charset: string, encoded: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '%') {
      if (!/^[0-9a-f]{2}$/i.test(encoded.slice(i + 1, i + 3))) return undefined;
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i) & 0xff);
    }
  }
  if (/^iso-8859-1$/i.test(charset)) return Buffer.from(bytes).toString('latin1');
  if (!/^utf-8$/i.test(charset)) return undefined;
  const text = Buffer.from(bytes).toString('utf8');
  return text.includes('\ufffd') ? undefined : text;
}

/** The last path segment of a URL, decoded. */
export function filenameFromUrl(url: URL): string | undefined {
  const last = url.pathname.split('/').pop();
  if (last === undefined || last === '') return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** A safe base name, or throws ERR_UNSAFE_FILENAME when nothing usable is left. */
export function safeBaseName(name: string): string {
  // Both separators, and drive prefixes like C: — only what follows the last one can be a name.
  let base = name.split(/[/\\]/).pop() ?? '';
  base = base.replace(/^[a-zA-Z]:/, '').replace(UNSAFE_CHARS, '').replace(/:/g, '_');
  // Leading dots would hide the file or name a dot-file (.bashrc); trailing dots and spaces vanish on Windows.
  base = base.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (RESERVED.test(base)) base = `_${base}`;
  base = fitBytes(base, 255);
  if (base === '') throw new DownloadError('ERR_UNSAFE_FILENAME', `cannot make a safe file name from ${JSON.stringify(name)}`);
  return base;
}

/** Shortens a name to `limit` UTF-8 bytes by whole code points, keeping a short extension. */
function fitBytes(name: string, limit: number): string {
  if (Buffer.byteLength(name) <= limit) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const stem = [...name.slice(0, name.length - extension.length)];
  while (stem.length > 0 && Buffer.byteLength(stem.join('') + extension) > limit) stem.pop();
  return stem.join('').replace(/[.\s]+$/, '') + extension;
}
