/**
 * Turns a server-suggested name (Content-Disposition or the URL path) into a safe base name
 * in the target directory: no separators, no traversal, no control or bidi characters,
 * no reserved Windows device names, at most 255 bytes (catalogue cases 44-45).
 */
import { DownloadError } from './errors.js';

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
// C0/C1 controls, DEL, and bidirectional overrides that disguise extensions (U+202E and friends).
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The filename parameter of a Content-Disposition value (RFC 6266), preferring `filename*`. */
export function filenameFromDisposition(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(value);
  if (extended?.[2] !== undefined) {
    try {
      return decodeURIComponent(extended[2].trim());
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))/i.exec(value);
  const raw = plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
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
  while (Buffer.byteLength(base) > 255) base = base.slice(0, -1);
  if (base === '') throw new DownloadError('ERR_UNSAFE_FILENAME', `cannot make a safe file name from ${JSON.stringify(name)}`);
  return base;
}
