/**
 * Catalogue cases 34-37 and 58: whatever state an earlier run left (a garbled, foreign, stale
 * or half-missing manifest), the next run never crashes and never trusts it. It warns
 * (ERR_RESTART) and starts over from zero — fetching the whole file again — or, for a stale
 * temp manifest, ignores the temp and resumes from the real one.
 */
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { claimedRanges, interruptAt, listDir, manifestOf, MiB, readManifest, runDownload, totalLength, writeManifest, writeSignedBody, type ManifestBody } from '../helpers/crash.js';
import { startServer, type TestServer } from '../helpers/server.js';

let out: string;
let server: TestServer | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-crash-manifest-'));
});
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

/** Not a multiple of the 64 KiB alignment, so the last segment is odd-sized. */
const SIZE = 4 * MiB + 4321;

interface Ctx {
  output: string;
  manifest: string;
  part: string;
  /** The manifest the interrupted run left, parsed. */
  data: ManifestBody;
  /** Its file text. */
  raw: string;
  canary: string;
}

type Expect = { kind: 'restart'; reason: RegExp } | { kind: 'resume' } | { kind: 'either' };

interface Variant {
  name: string;
  corrupt(ctx: Ctx): Promise<void>;
  expect: Expect;
}

/** A restart warning names the file it refused (case 34), not just "something was wrong". */
const unusable: Expect = { kind: 'restart', reason: /file\.bin\.segdl\.json/ };

/** A copy of the body with `edit` applied, re-signed: the variant is about the contents, not the envelope. */
function signed(edit: (data: ManifestBody) => void): (ctx: Ctx) => Promise<void> {
  return async (ctx) => {
    const copy = structuredClone(ctx.data);
    edit(copy);
    await writeManifest(ctx.manifest, copy);
  };
}

function segment(data: ManifestBody, index: number): [number, number, number, string?] {
  const s = data.segments[index];
  if (s === undefined) throw new Error(`the interrupted run left only ${data.segments.length} segments`);
  return s;
}

/** A segment with bytes done (there always is one: the run was interrupted at 40%). */
function doneIndex(data: ManifestBody): number {
  const i = data.segments.findIndex(([, , done]) => done > 0);
  if (i < 0) throw new Error('no segment has bytes done');
  return i;
}

const variants: Variant[] = [
  // Case 34: the file itself is garbled.
  { name: 'zero-filled', corrupt: (c) => writeFile(c.manifest, Buffer.alloc(c.raw.length)), expect: unusable },
  { name: 'empty', corrupt: (c) => writeFile(c.manifest, ''), expect: unusable },
  { name: 'truncated', corrupt: (c) => writeFile(c.manifest, c.raw.slice(0, Math.floor(c.raw.length / 2))), expect: unusable },
  { name: 'invalid JSON', corrupt: (c) => writeFile(c.manifest, `{"body": "{\\"version\\":1,`), expect: unusable },
  { name: 'JSON but not a manifest', corrupt: (c) => writeFile(c.manifest, '[1,2,3]'), expect: unusable },
  {
    name: 'body checksum mismatch (a done count edited, checksum kept)',
    corrupt: async (c) => {
      const outer = JSON.parse(c.raw) as { body: string; checksum: string };
      const copy = structuredClone(c.data);
      const s = segment(copy, doneIndex(copy));
      s[2] = s[1] - s[0]; // claims the whole segment
      await writeFile(c.manifest, JSON.stringify({ body: JSON.stringify(copy), checksum: outer.checksum }));
    },
    expect: unusable,
  },
  {
    name: 'checksum missing',
    corrupt: (c) => writeFile(c.manifest, JSON.stringify({ body: (JSON.parse(c.raw) as { body: string }).body })),
    expect: unusable,
  },
  // Signed bodies that are not what segdl writes: the checksum only proves the body is intact
  // (a buggy or foreign writer, or a hand-edited file re-signed), not that it is well-formed.
  // Regression: loadManifest() once read such bodies unguarded and the download failed with
  // ERR_NETWORK on every rerun instead of warning ERR_RESTART and starting over.
  { name: 'signed body that is not JSON', corrupt: (c) => writeSignedBody(c.manifest, '{"version":1,"url":'), expect: unusable },
  { name: 'signed body null', corrupt: (c) => writeSignedBody(c.manifest, 'null'), expect: unusable },
  {
    name: 'signed body with a non-array segment',
    corrupt: signed((d) => ((d.segments as unknown[])[0] = 42)),
    expect: unusable,
  },
  {
    name: 'signed body with a null segment',
    corrupt: signed((d) => ((d.segments as unknown[])[1] = null)),
    expect: unusable,
  },
  { name: 'signed body without segments', corrupt: signed((d) => delete (d as Partial<ManifestBody>).segments), expect: unusable },
  // Case 35: valid syntax, bad contents (checksum recomputed).
  { name: 'overlapping segments', corrupt: signed((d) => (segment(d, 1)[0] -= 64 * 1024)), expect: unusable },
  { name: 'out-of-bounds segment (ends past the size)', corrupt: signed((d) => (segment(d, d.segments.length - 1)[1] += 64 * 1024)), expect: unusable },
  { name: 'negative start', corrupt: signed((d) => (segment(d, 0)[0] = -4096)), expect: unusable },
  {
    name: 'done > length',
    corrupt: signed((d) => {
      const s = segment(d, doneIndex(d));
      s[2] = s[1] - s[0] + 1;
    }),
    expect: unusable,
  },
  { name: 'negative done', corrupt: signed((d) => (segment(d, doneIndex(d))[2] = -1)), expect: unusable },
  { name: 'fractional done', corrupt: signed((d) => (segment(d, doneIndex(d))[2] += 0.5)), expect: unusable },
  { name: 'wrong total (last segment dropped)', corrupt: signed((d) => d.segments.pop()), expect: unusable },
  { name: 'malformed segment hash', corrupt: signed((d) => (segment(d, doneIndex(d))[3] = 'not-a-hash')), expect: unusable },
  { name: 'unknown version 3', corrupt: signed((d) => (d.version = 3)), expect: unusable },
  { name: 'another block size', corrupt: signed((d) => (d.blockBytes = 64 * 1024)), expect: unusable },
  { name: 'size as a string', corrupt: signed((d) => ((d as { size: unknown }).size = String(d.size))), expect: unusable },
  // Another download's manifest.
  {
    name: 'another URL',
    corrupt: signed((d) => (d.url = 'http://127.0.0.1:1/other.bin')),
    expect: { kind: 'restart', reason: /URL/ },
  },
  {
    name: 'another size',
    corrupt: signed((d) => {
      d.size += 1;
      segment(d, d.segments.length - 1)[1] += 1;
    }),
    expect: { kind: 'restart', reason: /changed/ },
  },
  { name: 'another ETag', corrupt: signed((d) => (d.etag = '"another-version"')), expect: { kind: 'restart', reason: /changed/ } },
  // Case 37: the data file is gone or damaged, or the manifest is.
  { name: 'manifest missing (.part only)', corrupt: (c) => rm(c.manifest), expect: { kind: 'restart', reason: /file\.bin\.part/ } },
  { name: '.part missing', corrupt: (c) => rm(c.part), expect: { kind: 'restart', reason: /file\.bin\.part/ } },
  { name: '.part truncated', corrupt: (c) => truncate(c.part, SIZE - 1), expect: { kind: 'restart', reason: /file\.bin\.part/ } },
  // Case 36: a temp manifest that was never renamed is not state, however convincing it looks.
  {
    name: 'stale manifest.tmp claiming everything done',
    corrupt: async (c) => {
      const copy = structuredClone(c.data);
      for (const s of copy.segments) s[2] = s[1] - s[0];
      await writeManifest(`${c.manifest}.tmp`, copy);
    },
    expect: { kind: 'resume' },
  },
  { name: 'stale manifest.tmp, garbled', corrupt: (c) => writeFile(`${c.manifest}.tmp`, c.raw.slice(0, 40)), expect: { kind: 'resume' } },
  // Case 58: paths planted in a manifest are never used.
  {
    name: 'signed manifest with planted paths',
    corrupt: signed((d) => {
      const target = join(out, 'canary', 'planted');
      Object.assign(d, { output: target, part: target, path: target, file: '../canary/planted', dir: join(out, 'canary') });
    }),
    expect: { kind: 'either' },
  },
];

describe('a corrupt, foreign or stale manifest is never trusted (cases 34-37, 58)', () => {
  for (const variant of variants) it(variant.name, async () => {
    server = await startServer(SIZE, { rateBytesPerSec: 4 * MiB });
    const output = join(out, 'file.bin');
    const manifest = manifestOf(output);
    const canary = join(out, 'canary');
    await mkdir(canary);
    const data = await interruptAt(server.server.url, output, SIZE, 0.4);
    const claimed = totalLength(claimedRanges(data));
    expect(claimed).toBeGreaterThan(0);
    expect(claimed).toBeLessThan(SIZE);
    // One signed line (the snapshot with every checkpoint applied): the variants corrupt that.
    await writeManifest(manifest, data);
    const ctx: Ctx = { output, manifest, part: `${output}.part`, data, raw: await readFile(manifest, 'utf8'), canary };
    await variant.corrupt(ctx);

    const sentBefore = server.server.stats.bytesSent;
    const run = await runDownload(server.server.url, { output, connections: 4 });
    const sent = server.server.stats.bytesSent - sentBefore;

    // Never a crash: the run succeeds with the right bytes and leaves nothing behind.
    expect(run.error).toBeUndefined();
    expect(run.result?.size).toBe(SIZE);
    expect(await sha256File(output)).toBe(server.sha256);
    expect(await listDir(canary)).toEqual([]);
    await rm(canary, { recursive: true });
    expect(await listDir(out)).toEqual(['file.bin']);

    const expectation = variant.expect;
    if (expectation.kind === 'restart') {
      // Warned once, named the cause, and trusted none of the old bytes.
      expect(run.restarts).toHaveLength(1);
      expect(run.restarts[0]).toMatch(expectation.reason);
      expect(run.warnings.map((w) => w.code)).toEqual(['ERR_RESTART']);
      expect(run.resumes).toEqual([]);
      expect(run.result?.resumed).toBe(false);
      expect(run.result?.bytesFetched).toBe(SIZE);
      expect(sent).toBeGreaterThanOrEqual(SIZE);
    } else if (expectation.kind === 'resume') {
      // The real manifest was used: exactly what it claimed is kept, the rest fetched.
      expect(run.restarts).toEqual([]);
      expect(run.warnings).toEqual([]);
      expect(run.resumes).toEqual([claimed]);
      expect(run.result?.bytesFetched).toBe(SIZE - claimed);
    }
  });
});

describe('appended checkpoint lines: a reader stops at the first torn or unsigned one', () => {
  it.each([
    ['torn (cut in the middle)', (line: string) => line.slice(0, Math.floor(line.length / 2))],
    ['re-signed by nobody (a done count edited, checksum kept)', (line: string) => line.replace(/\[(\d+),(\d+),(\d+)/, (_m, a: string, b: string) => `[${a},${b},${b}`)],
  ] as const)('the last line %s: the run resumes from the lines before it, and trusts nothing of that line', async (_name, spoil) => {
    server = await startServer(SIZE, { rateBytesPerSec: 4 * MiB });
    const output = join(out, 'file.bin');
    const manifest = manifestOf(output);
    await interruptAt(server.server.url, output, SIZE, 0.5);
    const lines = (await readFile(manifest, 'utf8')).split('\n').filter((l) => l !== '');
    // The interrupted run checkpointed more than once: a snapshot and at least one appended line.
    expect(lines.length).toBeGreaterThan(1);
    await writeFile(manifest, `${lines.slice(0, -1).join('\n')}\n`);
    const before = totalLength(claimedRanges(await readManifest(manifest)));
    await writeFile(manifest, `${[...lines.slice(0, -1), spoil(lines[lines.length - 1]!)].join('\n')}\n`);

    const run = await runDownload(server.server.url, { output, connections: 4 });
    expect(run.error).toBeUndefined();
    expect(run.restarts).toEqual([]);
    expect(run.warnings).toEqual([]);
    expect(run.resumes).toEqual([before]);
    expect(await sha256File(output)).toBe(server.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });
});
