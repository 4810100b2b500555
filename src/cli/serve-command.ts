/** `segdl serve <file|dir>`: the range server as a command, with its fault knobs as flags. */
import { readFileSync } from 'node:fs';
import type { FaultOptions } from '../serve/index.js';
import { serve } from '../serve/index.js';
import { parseOrUsage, UsageError } from './args.js';
import { parseSize } from '../units.js';

const SERVE_USAGE = `Usage: segdl serve <file|dir> [options]
  --port N                 port (default: any free one)     --host ADDR   (default 127.0.0.1)
  --rate RATE              cap every connection, e.g. 8M (bytes/s)
  --slow-every N --slow-rate RATE   every Nth connection is capped at RATE instead
  --latency MS             delay before every response's headers
  --reset-after SIZE       cut each response's connection after SIZE body bytes
  --stall-after SIZE       stop sending after SIZE body bytes (connection stays open)
  --unavailable N          answer the first N GETs with 503   --retry-after S  (with it)
  --max-connections N      answer connections beyond N with 503
  --ignore-ranges          always send the whole file with 200
  --no-length              chunked responses without length or ranges
  --shift-content-range N  lie in Content-Range by N bytes
  --change-etag-after N    change the ETag after N GETs
  --weak-etag              send a weak ETag
  --tls-cert FILE --tls-key FILE   serve HTTPS with this PEM certificate and key
`;

export async function runServe(argv: string[], out: NodeJS.WriteStream): Promise<number> {
  const { values, positionals } = parseOrUsage(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    rate: { type: 'string' },
    'slow-every': { type: 'string' },
    'slow-rate': { type: 'string' },
    latency: { type: 'string' },
    'reset-after': { type: 'string' },
    'stall-after': { type: 'string' },
    unavailable: { type: 'string' },
    'retry-after': { type: 'string' },
    'max-connections': { type: 'string' },
    'ignore-ranges': { type: 'boolean' },
    'no-length': { type: 'boolean' },
    'shift-content-range': { type: 'string' },
    'change-etag-after': { type: 'string' },
    'weak-etag': { type: 'boolean' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    out.write(SERVE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('serve expects one file or directory');
  const size = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = parseSize(text);
    if (value === undefined) throw new UsageError(`--${name} expects a size, got ${text}`);
    return value;
  };
  const faults: FaultOptions = {};
  const set = <K extends keyof FaultOptions>(key: K, value: FaultOptions[K] | undefined) => {
    if (value !== undefined) faults[key] = value;
  };
  set('rateBytesPerSec', size('rate', values.rate));
  const slowEvery = size('slow-every', values['slow-every']);
  const slowRate = size('slow-rate', values['slow-rate']);
  if (slowEvery !== undefined && slowRate !== undefined) faults.slowConnections = { every: slowEvery, rateBytesPerSec: slowRate };
  set('firstByteLatencyMs', size('latency', values.latency));
  set('resetAfterBytes', size('reset-after', values['reset-after']));
  set('stallAfterBytes', size('stall-after', values['stall-after']));
  const unavailable = size('unavailable', values.unavailable);
  if (unavailable !== undefined) faults.unavailable = { count: unavailable, ...(values['retry-after'] === undefined ? {} : { retryAfter: values['retry-after'] }) };
  set('maxConnections', size('max-connections', values['max-connections']));
  if (values['ignore-ranges']) faults.ignoreRanges = true;
  if (values['no-length']) faults.noLength = true;
  set('shiftContentRange', size('shift-content-range', values['shift-content-range']));
  set('changeEtagAfter', size('change-etag-after', values['change-etag-after']));
  if (values['weak-etag']) faults.weakEtag = true;
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls = values['tls-cert'] === undefined ? undefined : { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) };
  const server = await serve({
    root: positionals[0]!,
    port: size('port', values.port) ?? 0,
    host: values.host ?? '127.0.0.1',
    faults,
    ...(tls === undefined ? {} : { tls }),
  });
  out.write(`${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
