import { createRng, shuffleInPlace } from "../augment/rng";
import type { SkippedFile } from "./imagefolder";

/** What the training loop reads: batches per epoch, with bad files found on the way left out. */
export interface BatchLoader<B> {
  /** Batches per epoch (drops as unreadable files are discovered). */
  readonly length: number;
  /** Usable items (all items minus those found unreadable). */
  readonly count: number;
  epoch(epoch: number): AsyncIterable<B>;
  close(): Promise<void>;
  /** Files that failed to decode; they are left out of every later batch. */
  skipped: SkippedFile[];
}

export interface BatchLoaderOptions<T, B> {
  itemCount: number;
  shuffle: boolean;
  seed: number;
  prefetch: number;
  batch: number;
  dropLast: boolean;
  /** Filled by `prepare` as it meets unreadable items. */
  unreadable: ReadonlySet<number>;
  skipped: SkippedFile[];
  prepare(index: number, epoch: number): Promise<T | null>;
  makeBatch(samples: { index: number; value: T }[]): B;
  /** Frees caches on close. */
  release(): void;
}

/** The loader shell shared by the classification and detection loaders. */
export function createBatchLoader<T, B>(opts: BatchLoaderOptions<T, B>): BatchLoader<B> {
  let closed = false;
  const usable = () => opts.itemCount - opts.unreadable.size;
  return {
    get count() {
      return usable();
    },
    get length() {
      return opts.dropLast ? Math.floor(usable() / opts.batch) : Math.ceil(usable() / opts.batch);
    },
    skipped: opts.skipped,
    epoch(epoch: number) {
      if (closed) throw new Error("loader is closed");
      const batches = () =>
        prefetchBatches({ ...opts, epoch, prepare: (index) => opts.prepare(index, epoch), isClosed: () => closed });
      return { [Symbol.asyncIterator]: batches };
    },
    async close() {
      closed = true;
      opts.release();
    },
  };
}

interface PrefetchOptions<T, B> {
  itemCount: number;
  /** Items found unreadable so far; skipped without changing the order of the others. */
  unreadable: ReadonlySet<number>;
  shuffle: boolean;
  seed: number;
  epoch: number;
  /** Samples prepared ahead of the consumer. */
  prefetch: number;
  batch: number;
  dropLast: boolean;
  /** Decodes (and augments) one item; null when it turned out unreadable. */
  prepare(index: number): Promise<T | null>;
  isClosed(): boolean;
  makeBatch(samples: { index: number; value: T }[]): B;
}

/**
 * One epoch of batches, shared by the classification and detection loaders: a seeded order per
 * epoch, a window of samples being prepared concurrently, and full batches whatever files fail.
 */
async function* prefetchBatches<T, B>(opts: PrefetchOptions<T, B>): AsyncGenerator<B> {
  // Shuffle every index, then drop known-bad ones: the order of good items is the same whether or not
  // this process has met the bad files yet (e.g. after a resume).
  const all = Array.from({ length: opts.itemCount }, (_, i) => i);
  if (opts.shuffle) shuffleInPlace(all, createRng(opts.seed).fork(`order:${opts.epoch}`));
  const order = all.filter((i) => !opts.unreadable.has(i));
  const inFlight: { index: number; value: Promise<T | null> }[] = [];
  let next = 0;
  const refill = () => {
    while (inFlight.length < opts.prefetch && next < order.length) {
      const index = order[next++];
      inFlight.push({ index, value: opts.prepare(index) });
    }
  };
  let pending: { index: number; value: T }[] = [];
  refill();
  while (inFlight.length > 0) {
    if (opts.isClosed()) throw new Error("loader was closed during an epoch");
    const { index, value } = inFlight.shift()!;
    const ready = await value;
    refill();
    if (ready === null) continue;
    pending.push({ index, value: ready });
    if (pending.length === opts.batch) {
      yield opts.makeBatch(pending);
      pending = [];
    }
  }
  if (pending.length > 0 && !opts.dropLast) yield opts.makeBatch(pending);
}
