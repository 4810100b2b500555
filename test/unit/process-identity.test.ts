/**
 * Telling a live lock owner from a dead one (issue 10, item 5): /proc/PID/stat parsing, the
 * lock file's owner format (old pid-only locks stay readable), and isRunning() judged on real
 * processes of this machine.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatOwner, parseOwner } from '../../src/disk/lock.js';
import { isRunning, ownIdentity, parseProcStat } from '../../src/disk/process-identity.js';
import { deadPid } from '../helpers/crash.js';

const OTHER_BOOT = '00000000-0000-4000-8000-000000000000';

describe('parseProcStat', () => {
  it('reads the state (field 3) and the start time (field 22)', () => {
    const line = '9327 (cat) R 9323 9323 6333 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 57911 3133440 406 18446744073709551615 0\n';
    expect(parseProcStat(line)).toEqual({ state: 'R', start: '57911' });
  });

  it('counts fields from the last parenthesis: a command name may hold spaces and parentheses', () => {
    const line = '9709 (a) (b c) Z 1 9704 6333 0 -1 4194304 136 0 0 0 0 0 0 0 20 0 1 0 61867 2990080 390 0\n';
    expect(parseProcStat(line)).toEqual({ state: 'Z', start: '61867' });
  });

  it.each([
    ['empty', ''],
    ['no parentheses', '1 cat R 2 3'],
    ['cut short before field 22', '1 (cat) S 0 1 1 0 -1 4194304'],
    ['a state that is not one letter', '1 (cat) RR 0 1 1 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 57911 3133440'],
  ])('%s → undefined', (_what, text) => {
    expect(parseProcStat(text)).toBeUndefined();
  });

  it('parses this process’s own stat', () => {
    const own = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(own?.state).toMatch(/^[RS]$/);
    expect(own?.start).toMatch(/^\d+$/);
  });
});

describe('the lock file’s owner', () => {
  it('writes the pid alone on the first line, then boot and start', () => {
    expect(formatOwner({ pid: 42, boot: 'b-1', start: '777' })).toBe('42\nboot b-1\nstart 777\n');
    expect(formatOwner({ pid: 42 })).toBe('42\n');
  });

  it('reads its own format back', () => {
    expect(parseOwner('42\nboot b-1\nstart 777\n')).toEqual({ pid: 42, boot: 'b-1', start: '777' });
  });

  it('reads a lock of the previous version (the pid only)', () => {
    expect(parseOwner('42\n')).toEqual({ pid: 42 });
    expect(parseOwner('42')).toEqual({ pid: 42 });
  });

  it('ignores lines it does not know (a later version may add some)', () => {
    expect(parseOwner('42\nhost example\nstart 9\n')).toEqual({ pid: 42, start: '9' });
  });

  it.each([['not a pid\n'], [''], ['0\n'], ['-1\n'], ['12abc\n'], ['\u0000\u0001\u00ff'], ['99999999999999999999\n']])('%j names no owner', (text) => {
    expect(parseOwner(text)).toBeUndefined();
  });
});

describe('isRunning', () => {
  const me = ownIdentity();

  it('knows this process by boot and start time on Linux', () => {
    expect(me.boot).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(me.start).toMatch(/^\d+$/);
  });

  it('a live process with the recorded identity runs', () => {
    expect(isRunning(me)).toBe(true);
  });

  it('a live pid recorded without identity (an old lock) runs', () => {
    expect(isRunning({ pid: process.pid })).toBe(true);
  });

  it('an exited process does not run', async () => {
    expect(isRunning({ pid: await deadPid() })).toBe(false);
  });

  it('a live pid recorded in another boot does not run', () => {
    expect(isRunning({ ...me, boot: OTHER_BOOT })).toBe(false);
  });

  it('a live pid with another start time (reused by another process) does not run', () => {
    expect(isRunning({ ...me, start: String(Number(me.start) + 1) })).toBe(false);
  });
});
