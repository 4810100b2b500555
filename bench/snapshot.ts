/**
 * The segdl under test, frozen for the whole run: dist/ is rebuilt by anyone working on src/,
 * and a rebuild in the middle of a run would mix two versions in one table (or break a run
 * while files are half written). The CLI runs from a copy; node_modules is linked, not copied.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Copies dist/src, dist/bin (the CLI's bundle and code cache) and package.json under `work` and returns the copy's root. */
export async function snapshotSegdl(root: string, work: string): Promise<string> {
  const copy = join(work, 'segdl-snapshot');
  await rm(copy, { recursive: true, force: true });
  await mkdir(join(copy, 'dist'), { recursive: true });
  await cp(join(root, 'dist/src'), join(copy, 'dist/src'), { recursive: true });
  await cp(join(root, 'dist/bin'), join(copy, 'dist/bin'), { recursive: true });
  await cp(join(root, 'package.json'), join(copy, 'package.json'));
  await symlink(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

/** "abc1234" or "abc1234 + uncommitted src/ changes": which segdl the numbers belong to. Read-only git. */
export function describeRevision(root: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted src/ changes` : head;
  } catch {
    return 'unknown revision';
  }
}
