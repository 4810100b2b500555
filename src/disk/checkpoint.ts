/**
 * Decides when to save the manifest: after enough new bytes or enough time, but never more
 * often than `minIntervalMs`, and never two saves at once (a save asked for during one is
 * done right after it). Save failures are kept and rethrown by `flush`.
 */
export interface CheckpointPolicy {
  /** Save once this many bytes were written since the last save. */
  bytes: number;
  /** Save at least this often while bytes are being written. */
  intervalMs: number;
  /** Never save more often than this. */
  minIntervalMs: number;
}

const DEFAULT_CHECKPOINT: CheckpointPolicy = { bytes: 512 * 1024, intervalMs: 250, minIntervalMs: 20 };

export class Checkpointer {
  readonly #save: () => Promise<void>;
  readonly #policy: CheckpointPolicy;
  #dirtyBytes = 0;
  #lastSave = 0;
  #saving: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #failure: unknown;

  constructor(save: () => Promise<void>, policy: CheckpointPolicy = DEFAULT_CHECKPOINT) {
    this.#save = save;
    this.#policy = policy;
  }

  /** Bytes just became durable in the .part file. */
  written(bytes: number): void {
    this.#dirtyBytes += bytes;
    if (this.#dirtyBytes >= this.#policy.bytes && Date.now() - this.#lastSave >= this.#policy.minIntervalMs) this.#request();
    else this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#dirtyBytes > 0) this.#request();
    }, this.#policy.intervalMs);
  }

  /** Saves now (after any save in progress) and reports any save failure. */
  async flush(): Promise<void> {
    this.#cancelTimer();
    this.#request();
    while (this.#saving !== undefined) await this.#saving;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Stops the timer without saving (the download is over). */
  stop(): void {
    this.#cancelTimer();
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #request(): void {
    if (this.#saving !== undefined) {
      this.#again = true;
      return;
    }
    this.#dirtyBytes = 0;
    this.#lastSave = Date.now();
    this.#saving = this.#save()
      .catch((error: unknown) => {
        this.#failure ??= error;
      })
      .finally(() => {
        this.#saving = undefined;
        if (this.#again) {
          this.#again = false;
          this.#request();
        }
      });
  }
}
