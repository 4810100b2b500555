/**
 * Which path a segment request takes: the direct receive path when the download may use it (no
 * proxy, no caller's dispatcher; http or https) and its origin has not declined, else undici. A request
 * the direct path declines (its answer is a redirect or has no exact length) is sent again through
 * undici with the same sink, and the handle follows it there.
 */
import type { Dispatcher } from 'undici';
import { sendRequest, type RequestHandle, type RequestSpec } from '../transport.js';
import type { DirectPool } from './connections.js';
import { Declined, sendDirect, type DirectSink } from './send-direct.js';

export function sendSegmentRequest(dispatcher: Dispatcher, direct: DirectPool | undefined, spec: RequestSpec, sink: DirectSink): RequestHandle {
  if (direct === undefined || (spec.url.protocol !== 'http:' && spec.url.protocol !== 'https:') || direct.declines(spec.url.origin)) return sendRequest(dispatcher, spec, sink);
  let current = sendDirect(direct, spec, sink);
  let paused = false;
  let aborted: Error | undefined;
  let cut = false;
  const handle: RequestHandle = {
    done: current.done.catch((error: unknown) => {
      if (!(error instanceof Declined) || spec.signal.aborted) throw error;
      current = sendRequest(dispatcher, spec, sink);
      if (aborted !== undefined) current.abort(aborted);
      else if (cut) current.cut();
      else if (paused) current.pause();
      return current.done;
    }),
    pause() {
      paused = true;
      current.pause();
    },
    resume() {
      paused = false;
      current.resume();
    },
    abort(reason) {
      aborted ??= reason;
      current.abort(reason);
    },
    cut() {
      cut = true;
      current.cut();
    },
  };
  return handle;
}
