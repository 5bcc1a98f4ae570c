// One model's session.runs, one at a time, with the requests that came in while a run held the thread
// coalesced into the next run's batch, as Triton's dynamic batcher does but with no waiting window: a lone
// request runs at once, as it would alone. Only when the model takes any batch size, only up to RUN_BATCH
// images, and only while coalescing changes no answer: the first coalesced run of each batch size is checked
// against its first request run alone, bit for bit; one difference turns coalescing off for the session.

import type { RunOutput } from "./worker-protocol";

/** Biggest batch handed to one session.run, so a large request never needs one huge tensor. */
export const RUN_BATCH = 8;

export type BatchRun = (input: Float32Array, dims: number[]) => Promise<Pick<RunOutput, "type" | "dims" | "data">>;

interface Job {
  input: Float32Array;
  dims: number[];
  resolve(output: RunOutput): void;
  reject(error: unknown): void;
}

/** session.run calls and the images they carried, over every queue of a thread. */
export interface RunCounts {
  runs: number;
  images: number;
}

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

export class RunQueue {
  private readonly waiting: Job[] = [];
  private draining = false;
  private coalescing: boolean;
  private readonly checkedSizes = new Set<number>();

  constructor(
    private readonly run: BatchRun,
    coalesce: boolean,
    private readonly counts: RunCounts = { runs: 0, images: 0 },
  ) {
    this.coalescing = coalesce;
  }

  /** `input` of `dims` [n, ...] run, alone or with others; its own n images of the output. */
  submit(input: Float32Array, dims: number[]): Promise<RunOutput> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, dims, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.draining || this.waiting.length === 0) return;
    this.draining = true;
    // Behind the messages already delivered: what arrived while the last run held the thread joins the next.
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    const jobs = this.take();
    try {
      await this.runJobs(jobs);
    } catch (error) {
      // Settles what a fault of this queue's own left unsettled (settling twice changes nothing).
      for (const job of jobs) job.reject(error);
    } finally {
      this.draining = false;
      this.schedule();
    }
  }

  /** The oldest job, and while coalescing the next ones of the same image size, up to RUN_BATCH images. */
  private take(): Job[] {
    const jobs = [this.waiting.shift()!];
    if (!this.coalescing) return jobs;
    const size = jobs[0].dims.slice(1).join(",");
    let images = jobs[0].dims[0];
    for (let i = 0; i < this.waiting.length && images < RUN_BATCH; ) {
      const job = this.waiting[i];
      if (job.dims.slice(1).join(",") === size && images + job.dims[0] <= RUN_BATCH) {
        jobs.push(...this.waiting.splice(i, 1));
        images += job.dims[0];
      } else {
        i++;
      }
    }
    return jobs;
  }

  private async timed(input: Float32Array, dims: number[]) {
    const started = performance.now();
    const output = await this.run(input, dims);
    this.counts.runs++;
    this.counts.images += dims[0];
    return { ...output, runMs: performance.now() - started, runImages: dims[0] };
  }

  /** Runs `job` by itself and settles it; its output, or null when it failed. */
  private async alone(job: Job): Promise<RunOutput | null> {
    try {
      const output = await this.timed(job.input, job.dims);
      job.resolve(output);
      return output;
    } catch (error) {
      job.reject(error);
      return null;
    }
  }

  private async runJobs(jobs: Job[]): Promise<void> {
    if (jobs.length === 1) {
      await this.alone(jobs[0]);
      return;
    }
    const images = jobs.reduce((n, job) => n + job.dims[0], 0);
    const input = new Float32Array(jobs.reduce((n, job) => n + job.input.length, 0));
    jobs.reduce((offset, job) => (input.set(job.input, offset), offset + job.input.length), 0);
    // The batch's failure may be one request's; each then gets its own answer or error.
    const batch = await this.timed(input, [images, ...jobs[0].dims.slice(1)]).catch(() => null);
    let parts = batch && split(batch, jobs);
    let rest = jobs;
    if (parts && !this.checkedSizes.has(images)) {
      const first = await this.alone(jobs[0]);
      if (first && first.type === parts[0].type && sameBits(first.data, parts[0].data)) this.checkedSizes.add(images);
      else this.coalescing = false;
      parts = this.coalescing ? parts.slice(1) : null;
      rest = jobs.slice(1);
    }
    if (!parts) {
      for (const job of rest) await this.alone(job);
      return;
    }
    rest.forEach((job, i) => job.resolve(parts[i]));
  }
}

/** Each job's images of a batch-major output; null when the output's first dimension is not the batch. */
function split(batch: RunOutput, jobs: Job[]): RunOutput[] | null {
  if (batch.dims[0] !== batch.runImages || batch.data.length % batch.runImages !== 0) return null;
  const perImage = batch.data.length / batch.runImages;
  let offset = 0;
  return jobs.map((job) => {
    const n = job.dims[0];
    const data = batch.data.slice(offset * perImage, (offset + n) * perImage);
    offset += n;
    return { ...batch, dims: [n, ...batch.dims.slice(1)], data };
  });
}
