/**
 * Issue 10, item 7a (curl's test 1138): a redirect whose Location carries raw UTF-8 bytes. Read
 * as Latin-1 and encoded again it named `%C3%98%C2%A2…`, a 404; the target must be asked for
 * as `%D8%A2…`, as browsers and curl do.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sha256File, writeDataFile } from '../../fixtures/data.js';
import { serve, type RangeServer } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';

const NAME = '\u0622\u0626\u0626 \u00e9.bin'; // Arabic letters, a space and é
const ENCODED = '%D8%A2%D8%A6%D8%A6%20%C3%A9.bin';
const SIZE = 300_000;

let root: string;
let cwd: string;
let server: RangeServer | undefined;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'segdl-utf8-location-'));
  cwd = await mkdtemp(join(tmpdir(), 'segdl-utf8-location-out-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(root, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
});

it('a Location with raw UTF-8 bytes is followed to the percent-encoded UTF-8 path, and the file is fetched', async () => {
  await writeDataFile(join(root, 'start.bin'), 10, 'start');
  const sha256 = await writeDataFile(join(root, NAME), SIZE, 'segdl');
  server = await serve({
    root,
    faultFor: (q) => (q.path.startsWith('/start.bin') ? { redirect: `/${NAME}?q=\u00f6`, utf8Location: true } : undefined),
  });
  const run = await runCli([server.urlFor('start.bin'), '-c', '2', '--quiet'], { cwd });
  expect(run.code, run.stderr).toBe(0);
  const followed = server.requests.filter((q) => !q.path.startsWith('/start.bin'));
  expect(followed.length).toBeGreaterThan(0);
  expect(new Set(followed.map((q) => q.path))).toEqual(new Set([`/${ENCODED}?q=%C3%B6`]));
  expect(server.requests.filter((q) => q.status === 404)).toEqual([]);
  // Named after the redirect target's last path segment, decoded.
  expect(await readdir(cwd)).toEqual([NAME]);
  expect(await sha256File(join(cwd, NAME))).toBe(sha256);
});
