/**
 * The queue's events in aria2's terms: each item's state, start info, progress and result go into
 * its registry entry, and become aria2's notifications (plus segdl.onDownloadProgress, throttled).
 */
import { relative } from 'node:path';
import type { DownloadQueue } from '../queue.js';
import type { Entry, Registry } from './registry.js';

/** segdl.onDownloadProgress at most this often per download. */
const PROGRESS_EVERY_MS = 1000;

export interface QueueEventHooks {
  notify(method: string, params: unknown[]): void;
  dirOf(entry: Entry): string;
  /** Something the session file records changed. */
  changed(): void;
}

export function followQueue(queue: DownloadQueue, registry: Registry, hooks: QueueEventHooks): void {
  const progressSent = new Map<string, number>();
  const notify = (method: string, entry: Entry) => hooks.notify(method, [{ gid: entry.gid }]);
  const stopped = (entry: Entry, notification: string) => {
    progressSent.delete(entry.gid);
    for (const old of registry.stop(entry)) queue.forget(old.handle.id);
    notify(notification, entry);
    hooks.changed();
  };
  const on = <T extends { id: number }>(handler: (entry: Entry, event: T) => void) => (event: T) => {
    const entry = registry.byId(event.id);
    if (entry !== undefined) handler(entry, event);
  };

  queue.on(
    'state',
    on((entry, { state }) => {
      if (state === 'running') notify('aria2.onDownloadStart', entry);
      if (state === 'paused') notify('aria2.onDownloadPause', entry);
      if (state === 'cancelled') stopped(entry, 'aria2.onDownloadStop');
      hooks.changed();
    }),
  );
  queue.on(
    'start',
    on((entry, { info }) => {
      entry.info = info;
      // The name the server chose is kept: a restart from the session finds the same manifest.
      if (entry.options['out'] === undefined) {
        entry.options['out'] = relative(hooks.dirOf(entry), info.path);
        hooks.changed();
      }
    }),
  );
  queue.on(
    'progress',
    on((entry, { progress }) => {
      entry.progress = progress;
      const now = Date.now();
      if (now - (progressSent.get(entry.gid) ?? 0) < PROGRESS_EVERY_MS) return;
      progressSent.set(entry.gid, now);
      const { transferredBytes, totalBytes, bytesPerSecond } = progress;
      hooks.notify('segdl.onDownloadProgress', [
        { gid: entry.gid, completedLength: String(transferredBytes), totalLength: String(totalBytes ?? 0), downloadSpeed: String(Math.round(bytesPerSecond)) },
      ]);
    }),
  );
  queue.on(
    'done',
    on((entry, { result }) => {
      entry.result = result;
      stopped(entry, 'aria2.onDownloadComplete');
    }),
  );
  queue.on(
    'failed',
    on((entry, { error }) => {
      entry.error = error;
      stopped(entry, 'aria2.onDownloadError');
    }),
  );
}
