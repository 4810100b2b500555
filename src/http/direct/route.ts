/**
 * Which path a segment request takes: the direct receive path when the download may use it (no
 * proxy, no caller's dispatcher; http or https) and its origin has not declined, else undici. A request
 * the direct path declines (its answer is a redirect or has no exact length) is sent again through
 * undici with the same sink, and the handle follows it there.
 */
import type { Dispatcher } from 'undici';
import { RequestRelay } from '../request-relay.js';
import { sendRequest, type RequestHandle, type RequestSpec } from '../transport.js';
import type { DirectPool } from './connections.js';
import { Declined, sendDirect, type DirectSink } from './send-direct.js';

export function sendSegmentRequest(dispatcher: Dispatcher, direct: DirectPool | undefined, spec: RequestSpec, sink: DirectSink): RequestHandle {
  if (direct === undefined || (spec.url.protocol !== 'http:' && spec.url.protocol !== 'https:') || direct.declines(spec.url.origin)) return sendRequest(dispatcher, spec, sink);
  const relay = new RequestRelay();
  const first = sendDirect(direct, spec, sink);
  relay.attach(first);
  return {
    done: first.done.catch((error: unknown) => {
      if (!(error instanceof Declined) || spec.signal.aborted) throw error;
      const again = sendRequest(dispatcher, spec, sink);
      relay.attach(again);
      return again.done;
    }),
    pause: () => relay.pause(),
    resume: () => relay.resume(),
    abort: (reason) => relay.abort(reason),
    cut: () => relay.cut(),
  };
}
