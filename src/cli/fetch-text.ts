/** Reads a small text resource — a local file, stdin (`-`), or an http(s) URL — for the command line's list and checksum files. */
import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { DownloadError } from '../errors.js';
import { sendRequest } from '../http/transport.js';
import { UsageError } from './args.js';

const MAX_BYTES = 16 * 1024 * 1024;

export function isUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/** A local file or stdin; an unreadable one is a usage error naming `flag`. */
export async function readLocalText(path: string, flag: string): Promise<string> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** GETs `url` through `dispatcher` (redirects followed, credentials never sent to another origin); 200 only, at most 16 MiB. */
export async function fetchText(dispatcher: Dispatcher, url: URL, headers: Record<string, string>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let status = 0;
  const handle = sendRequest(
    dispatcher,
    { url, method: 'GET', headers: { ...headers, 'accept-encoding': 'identity' }, signal: new AbortController().signal, headersTimeoutMs: 30_000 },
    {
      head(response) {
        status = response.status;
        if (status !== 200) throw new DownloadError('ERR_HTTP_STATUS', `${url.origin}${url.pathname}: server answered ${status}`, { url: url.href, status });
      },
      data(chunk) {
        size += chunk.length;
        if (size > MAX_BYTES) throw new DownloadError('ERR_TOO_LARGE', `${url.origin}${url.pathname} is larger than ${MAX_BYTES} bytes: not a checksum file`);
        chunks.push(chunk);
        return true;
      },
    },
  );
  await handle.done;
  return Buffer.concat(chunks).toString('utf8');
}
