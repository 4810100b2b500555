/**
 * `node dist/bench/floor.js URL`: the cheapest possible undici download of URL on one connection
 * (dispatch API, every chunk dropped). Run it under `/usr/bin/time -f '%e s %U u %S s %M KB'` to
 * see the CPU and memory floor any undici-based client starts from.
 */
import { Agent } from 'undici';

const url = new URL(process.argv[2] ?? '');
const agent = new Agent();
let bytes = 0;
await new Promise<void>((resolve, reject) =>
  agent.dispatch(
    { origin: url.origin, path: url.pathname, method: 'GET' },
    {
      onRequestStart() {},
      onResponseStart() {},
      onResponseData(_controller, chunk) {
        bytes += chunk.length;
      },
      onResponseEnd() {
        resolve();
      },
      onResponseError(_controller, error) {
        reject(error);
      },
    },
  ),
);
await agent.close();
process.stdout.write(`${bytes} bytes\n`);
