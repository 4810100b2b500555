/**
 * `.netrc` credentials with curl's semantics: `machine NAME` entries (host names compared
 * without case or port), a `default` entry for every other host, `login`/`password` (quoted
 * strings with `\"`, `\\`, `\n` escapes, as curl 7.84+ reads them), `macdef` blocks skipped to
 * the next blank line, `account` ignored. A URL that names a user picks that user's entry.
 * The credentials become a Basic `Authorization` for that origin only: the transport drops it
 * on a redirect to another origin, and mirrors on other hosts never get it.
 */
import { UsageError } from './args.js';

export interface NetrcEntry {
  /** undefined for the `default` entry. */
  machine: string | undefined;
  login: string | undefined;
  password: string | undefined;
}

export function parseNetrc(text: string, source: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const tokens = tokenize(text);
  let current: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const value = () => {
      const next = tokens[++i];
      if (next === undefined) throw new UsageError(`${source}: "${token.text}" at the end of the file needs a value`);
      return next.text;
    };
    switch (token.text) {
      case 'machine':
        current = { machine: value().toLowerCase(), login: undefined, password: undefined };
        entries.push(current);
        break;
      case 'default':
        current = { machine: undefined, login: undefined, password: undefined };
        entries.push(current);
        break;
      case 'login':
      case 'password': {
        const text = value();
        if (current === undefined) throw new UsageError(`${source}: "${token.text}" before any machine or default`);
        current[token.text] = text;
        break;
      }
      case 'account':
        value();
        break;
      case 'macdef':
        value();
        // The macro body runs to the next empty line.
        while (i + 1 < tokens.length && tokens[i + 1]!.afterBlankLine === false) i++;
        current = undefined;
        break;
      default:
        throw new UsageError(`${source}: unexpected "${token.text}" (expected machine, default, login, password, account or macdef)`);
    }
  }
  return entries;
}

/** The entry for `host` (and `user`, when the URL named one): its machine entry first, else default. */
export function netrcFor(entries: readonly NetrcEntry[], host: string, user: string | undefined): NetrcEntry | undefined {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const fits = (entry: NetrcEntry) => entry.password !== undefined && (user === undefined || user === '' || entry.login === user);
  return entries.find((e) => e.machine === name && fits(e)) ?? entries.find((e) => e.machine === undefined && fits(e));
}

export function basicAuthorization(entry: NetrcEntry): string {
  return `Basic ${Buffer.from(`${entry.login ?? ''}:${entry.password ?? ''}`).toString('base64')}`;
}

interface Token {
  text: string;
  /** Whether an empty line came between this token and the one before it. */
  afterBlankLine: boolean;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let blank = false;
  let lineStart = true;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      // A line with nothing on it ends a macdef.
      if (lineStart && i > 0) blank = true;
      lineStart = true;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' && lineStart) {
      // A comment line; a '#' later on a line (in a password) is kept.
      while (i < text.length && text[i] !== '\n') i++;
      lineStart = false;
    } else if (c === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) {
          const e = text[++i]!;
          value += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e;
        } else {
          value += text[i];
        }
        i++;
      }
      i++;
      tokens.push({ text: value, afterBlankLine: blank });
      blank = false;
      lineStart = false;
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i]!)) i++;
      tokens.push({ text: text.slice(start, i), afterBlankLine: blank });
      blank = false;
      lineStart = false;
    }
  }
  return tokens;
}
