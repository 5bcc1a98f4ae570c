/**
 * Seeded pseudo-random numbers shared by the whole engine (augmentation, shuffling, splits, init).
 *
 * xoshiro128** seeded through splitmix32. Every generator also carries a 32-bit `key` naming its stream;
 * `fork(label)` derives a child stream from the parent's key and the label only — never from how many
 * numbers the parent has drawn — so `createRng(seed).fork(epoch).fork(index)` is the same stream no matter
 * in which order, or in which thread, samples are processed.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (mean 0, std 1). */
  normal(): number;
  /** An independent stream derived from this stream's key and `label`. */
  fork(label: string | number): Rng;
  /** Four state words followed by the stream key; `setState` restores it exactly. */
  getState(): number[];
  setState(state: number[]): void;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over the label's text, then mixed with the parent key (murmur3 finaliser). */
function deriveKey(parentKey: number, label: string | number): number {
  let h = 0x811c9dc5;
  const text = String(label);
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  h ^= Math.imul(parentKey ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function rngFromKey(key: number): Rng {
  const seedWords = splitmix32(key);
  const s = new Uint32Array([seedWords(), seedWords(), seedWords(), seedWords()]);
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // xoshiro must not start from the all-zero state
  let streamKey = key;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };

  const rng: Rng = {
    next: () => nextUint32() / 4294967296,
    int: (n) => Math.floor((nextUint32() / 4294967296) * n),
    uniform: (lo, hi) => lo + (hi - lo) * (nextUint32() / 4294967296),
    normal: () => {
      // Box-Muller without caching the second value, so the state stays four words.
      const u1 = (nextUint32() + 1) / 4294967297;
      const u2 = nextUint32() / 4294967296;
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    fork: (label) => rngFromKey(deriveKey(streamKey, label)),
    getState: () => [s[0], s[1], s[2], s[3], streamKey],
    setState: (state) => {
      if (state.length !== 5 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
        throw new Error(`invalid rng state: expected 5 unsigned 32-bit integers, got [${state.join(", ")}]`);
      }
      s.set(state.slice(0, 4));
      streamKey = state[4];
    },
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`rng seed must be a finite number, got ${seed}`);
  return rngFromKey(deriveKey(0, Math.trunc(seed)));
}

/** Fisher-Yates shuffle of `array` in place. */
export function shuffleInPlace<T>(array: T[], rng: Rng): T[] {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}
