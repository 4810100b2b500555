/**
 * One request to learn what is being downloaded: size, range support, validators, a name.
 * HEAD first; a GET for `bytes=0-0` when HEAD is refused or says nothing useful.
 */
import type { Dispatcher } from 'undici';
import { parseContentLength, parseContentRange } from './content-range.js';
import { DownloadError } from '../errors.js';
import { parseRetryAfter } from '../schedule/retry.js';
import { sendRequest, type ResponseHead } from './transport.js';

export interface RemoteInfo {
  /** The URL after redirects: every range request goes here. */
  url: URL;
  size: number | undefined;
  acceptsRanges: boolean;
  /** Strong ETag only: a weak one cannot guard a byte range (RFC 9110 §13.1.5). */
  etag: string | undefined;
  lastModified: string | undefined;
  /** The name the server suggests (raw; sanitise before use). */
  contentDisposition: string | undefined;
}

export interface ProbeParams {
  dispatcher: Dispatcher;
  url: URL;
  headers: Record<string, string>;
  signal: AbortSignal;
}

export async function probeRemote(params: ProbeParams): Promise<RemoteInfo> {
  const head = await requestHead(params, 'HEAD');
  if (head.status >= 200 && head.status < 300) {
    const info = infoFromHead(head);
    // HEAD without a length or without range support may be a lazy HEAD handler: ask GET.
    if (info.size !== undefined && info.acceptsRanges) return info;
  } else if (head.status !== 405 && head.status !== 501 && head.status !== 403) {
    throw statusError(head);
  }
  const get = await requestHead(params, 'GET', { range: 'bytes=0-0' });
  if (get.status === 206) {
    const range = parseContentRange(single(get.headers['content-range']));
    if (range?.kind !== 'range' || range.start !== 0) {
      throw new DownloadError('ERR_PROTOCOL', `invalid Content-Range in probe: ${String(get.headers['content-range'])}`, { url: get.url.href });
    }
    return { ...infoFromHead(get), size: range.total, acceptsRanges: range.total !== undefined };
  }
  if (get.status === 200) return { ...infoFromHead(get), acceptsRanges: false };
  throw statusError(get);
}

function statusError(head: ResponseHead): DownloadError {
  return new DownloadError('ERR_HTTP_STATUS', `server answered ${head.status}`, {
    url: head.url.href,
    status: head.status,
    retryAfterMs: parseRetryAfter(head.headers['retry-after']),
  });
}

function infoFromHead(head: ResponseHead): RemoteInfo {
  const length = parseContentLength(head.headers['content-length']);
  if (length !== undefined && Number.isNaN(length)) {
    throw new DownloadError('ERR_PROTOCOL', `invalid Content-Length: ${String(head.headers['content-length'])}`, { url: head.url.href });
  }
  const etag = single(head.headers.etag);
  return {
    url: head.url,
    size: head.headers['content-encoding'] !== undefined && head.headers['content-encoding'] !== 'identity' ? undefined : length,
    acceptsRanges: /\bbytes\b/i.test(single(head.headers['accept-ranges']) ?? ''),
    etag: etag !== undefined && !etag.startsWith('W/') ? etag : undefined,
    lastModified: single(head.headers['last-modified']),
    contentDisposition: single(head.headers['content-disposition']),
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Sends a request and returns its status and headers, reading (and dropping) at most a byte. */
async function requestHead(params: ProbeParams, method: 'HEAD' | 'GET', extra: Record<string, string> = {}): Promise<ResponseHead> {
  let head: ResponseHead | undefined;
  const handle = sendRequest(
    params.dispatcher,
    {
      url: params.url,
      method,
      headers: { ...params.headers, 'accept-encoding': 'identity', ...extra },
      signal: params.signal,
      headersTimeoutMs: 30_000,
    },
    {
      head(response) {
        head = response;
      },
      // A GET whose server ignored the range would send the whole file: stop at the first chunk.
      data: () => head?.status !== 200,
    },
  );
  await handle.done;
  if (head === undefined) throw new DownloadError('ERR_PROTOCOL', 'no response headers', { url: params.url.href });
  return head;
}
