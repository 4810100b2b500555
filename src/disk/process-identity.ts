/**
 * Who a pid is, beyond "kill(pid, 0) succeeds": on Linux the boot (a pid from another boot
 * means nothing now), the process's start time (a reused pid has another one) and its state
 * (a zombie is dead, only not yet reaped). Elsewhere, or without a readable /proc, nothing but
 * the pid is known and the caller falls back to kill(pid, 0).
 */
import { readFileSync } from 'node:fs';

/** What identifies a running process for as long as it lives. */
export interface ProcessIdentity {
  pid: number;
  /** /proc/sys/kernel/random/boot_id: changes with every boot. */
  boot?: string | undefined;
  /** /proc/PID/stat field 22, clock ticks after boot: two processes with one pid in one boot differ here. */
  start?: string | undefined;
}

/** A process as /proc shows it: its state letter (R, S, D, Z, ...) and start time. */
export interface ProcStat {
  state: string;
  start: string;
}

/**
 * Parses /proc/PID/stat. The command name (field 2) sits in parentheses and may hold spaces
 * and parentheses itself, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields 3.. after the name: state is field 3, starttime field 22.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const start = fields[22 - 3];
  if (state === undefined || !/^[A-Za-z]$/.test(state) || start === undefined || !/^\d+$/.test(start)) return undefined;
  return { state, start };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** This boot's id, or undefined where the system does not publish one. */
export function currentBoot(): string | undefined {
  const id = readText('/proc/sys/kernel/random/boot_id')?.trim();
  return id === undefined || id === '' ? undefined : id;
}

/** /proc's view of `pid`: undefined when /proc cannot tell (not Linux, hidden, unparsable). */
export function procStatOf(pid: number | 'self'): ProcStat | 'gone' | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    // A missing entry means "no such process" only where /proc works at all.
    if (pid === 'self' || (error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    return procStatOf('self') === undefined ? undefined : 'gone';
  }
}

/** This process's identity, with as much as the system tells. */
export function ownIdentity(): ProcessIdentity {
  const self = procStatOf('self');
  return { pid: process.pid, boot: currentBoot(), start: typeof self === 'object' ? self.start : undefined };
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process `owner` describes still runs. Whatever was not recorded (a lock written
 * by an older segdl holds only the pid) or cannot be read here is not held against it:
 * when in doubt, the owner counts as alive, so a live lock is never taken over by mistake.
 */
export function isRunning(owner: ProcessIdentity): boolean {
  const boot = currentBoot();
  if (owner.boot !== undefined && boot !== undefined && owner.boot !== boot) return false;
  if (!signalZero(owner.pid)) return false;
  const stat = procStatOf(owner.pid);
  if (stat === 'gone') return false;
  if (stat === undefined) return true;
  // Z: exited, waiting for a parent that may never reap it; X: being removed.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.start === undefined || owner.start === stat.start;
}
