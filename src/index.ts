/** The public surface of segdl: everything an embedder imports, and nothing else. */
export { Download, download } from './download.js';
export { DownloadError, isRetryable } from './errors.js';
export type { ErrorCode, DownloadErrorContext } from './errors.js';
export type { DownloadEvents, DownloadResult, Progress, SegmentView, StartInfo } from './events.js';
export { HASH_ALGORITHMS, parseChecksum } from './options.js';
export { hashFile } from './verify/hash-file.js';
export { BLOCK_BYTES } from './verify/blocks.js';
export type { Digest } from './verify/verify.js';
export type { DownloadOptions, HashAlgorithm } from './options.js';
export type { RetryOptions } from './schedule/retry.js';
export { planSegments, planRanges, splitPoint, validateSegments } from './schedule/plan.js';
export type { Segment, ByteRange, PlanOptions } from './schedule/plan.js';
export { serve } from './serve/index.js';
export type { FaultOptions, FaultPlan, RangeServer, RequestRecord, ServeOptions, ServerStats } from './serve/index.js';
export { DownloadQueue } from './queue.js';
export type { QueueOptions, QueueItemOptions, QueuedDownload, QueueProgress, QueueEvents, ItemState } from './queue.js';
