/**
 * Augmentations written in other libraries' words, mapped onto our op library: Albumentations
 * transforms (`{"type": "HorizontalFlip", "p": 0.5}`, or serialised with `__class_fullname__`) and
 * Ultralytics' hyper-parameters (`fliplr`, `hsv_h`, `degrees` …). What has no counterpart is left
 * alone, so validation names it.
 */
import { augmentOpNames } from "./ops";

type Json = Record<string, unknown>;
type OpJson = { op: string; [param: string]: unknown };

const num = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
/** Albumentations limits are a number x (meaning [-x, x]) or a [low, high] pair: the largest magnitude. */
const limit = (value: unknown): number | undefined => {
  if (Array.isArray(value)) return Math.max(...value.map((v) => Math.abs(Number(v))));
  const x = num(value);
  return x === undefined ? undefined : Math.abs(x);
};
const pair = (value: unknown): [number, number] | undefined =>
  Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number") ? [value[0], value[1]] : num(value) !== undefined ? [0, num(value)!] : undefined;
const clean = (op: OpJson): OpJson => Object.fromEntries(Object.entries(op).filter(([, v]) => v !== undefined)) as OpJson;

/** Albumentations' transform name → our ops (one transform may be several of ours). */
const ALBUMENTATIONS: Record<string, (t: Json, p: number | undefined) => OpJson[]> = {
  HorizontalFlip: (_t, p) => [{ op: "hflip", p }],
  VerticalFlip: (_t, p) => [{ op: "vflip", p }],
  RandomRotate90: (_t, p) => [{ op: "rot90", p }],
  Rotate: (t, p) => [{ op: "rotate", p, degrees: limit(t.limit) ?? 90 }],
  SafeRotate: (t, p) => [{ op: "rotate", p, degrees: limit(t.limit) ?? 90 }],
  RandomBrightnessContrast: (t, p) => [
    { op: "brightness", p, amount: limit(t.brightness_limit) ?? 0.2 },
    { op: "contrast", p, amount: limit(t.contrast_limit) ?? 0.2 },
  ],
  ColorJitter: (t, p) => [
    { op: "brightness", p, amount: limit(t.brightness) ?? 0.2 },
    { op: "contrast", p, amount: limit(t.contrast) ?? 0.2 },
    { op: "saturation", p, amount: limit(t.saturation) ?? 0.2 },
    { op: "hue", p, amount: limit(t.hue) ?? 0.1 },
  ],
  // Its limits are on OpenCV's 8-bit HSV scales: hue 0-180, saturation 0-255.
  HueSaturationValue: (t, p) => [
    { op: "hue", p, amount: (limit(t.hue_shift_limit) ?? 20) / 180 },
    { op: "saturation", p, amount: Math.min(1, (limit(t.sat_shift_limit) ?? 30) / 255) },
  ],
  ToGray: (_t, p) => [{ op: "grayscale", p }],
  GaussianBlur: (t, p) => [{ op: "blur", p, radius: pair(t.sigma_limit) }],
  // var_limit is in squared 8-bit levels; std_range (newer releases) is already a fraction.
  GaussNoise: (t, p) => [{ op: "noise", p, std: pair(t.std_range)?.[1] ?? (pair(t.var_limit) ? Math.sqrt(pair(t.var_limit)![1]) / 255 : undefined) }],
  RandomResizedCrop: (t, p) => [{ op: "random_resized_crop", p, scale: pair(t.scale), ratio: pair(t.ratio) }],
  CoarseDropout: (t, p) => [{ op: "cutout", p, holes: num(t.max_holes) }],
  Cutout: (t, p) => [{ op: "cutout", p, holes: num(t.num_holes) }],
};

/** The transform name an entry gives, in any of the spellings clients use. */
export function foreignOpName(entry: unknown): string | undefined {
  if (!entry || typeof entry !== "object") return undefined;
  const e = entry as Json;
  const name = e.op ?? e.type ?? e.name ?? e.transform ?? e.__class_fullname__;
  return typeof name === "string" ? name.split(".").pop() : undefined;
}

/**
 * Our ops for one entry: itself when it already is one of ours, the mapped ops for a known foreign
 * transform, null when nothing matches.
 */
export function mapForeignOp(entry: unknown): OpJson[] | null {
  const name = foreignOpName(entry);
  if (name === undefined) return null;
  if ((augmentOpNames as string[]).includes(name) && (entry as Json).op === name) return [entry as OpJson];
  const mapper = ALBUMENTATIONS[name];
  if (!mapper) return null;
  const e = entry as Json;
  const params = (e.params && typeof e.params === "object" ? e.params : e) as Json;
  return mapper(params, num(e.p ?? params.p)).map(clean);
}

/**
 * Expands a pipeline's foreign entries into our ops. `origin[i]` is the position in `json` that
 * op `i` came from, so validation errors name the client's own positions.
 */
export function expandForeignOps(json: unknown[]): { ops: unknown[]; origin: number[] } {
  const ops: unknown[] = [];
  const origin: number[] = [];
  json.forEach((entry, index) => {
    for (const op of mapForeignOp(entry) ?? [entry]) {
      ops.push(op);
      origin.push(index);
    }
  });
  return { ops, origin };
}

/** Ultralytics' augmentation hyper-parameters that are ops of ours; the others are not augmentation ops. */
export function ultralyticsAugmentation(keys: Json): { pipeline: OpJson[]; rest: Json } {
  const pipeline: OpJson[] = [];
  const rest: Json = {};
  for (const [key, value] of Object.entries(keys)) {
    const x = num(value);
    const op =
      x === undefined ? null
      : key === "fliplr" ? { op: "hflip", p: x }
      : key === "flipud" ? { op: "vflip", p: x }
      : key === "degrees" ? { op: "rotate", p: 1, degrees: x }
      : key === "translate" ? { op: "translate", p: 1, fraction: x }
      : key === "scale" ? { op: "scale", p: 1, range: [Math.max(0.05, 1 - x), 1 + x] }
      : key === "hsv_h" ? { op: "hue", p: 1, amount: x }
      : key === "hsv_s" ? { op: "saturation", p: 1, amount: x }
      : key === "hsv_v" ? { op: "brightness", p: 1, amount: x }
      : null;
    // A zero strength is Ultralytics' way of turning the augmentation off.
    if (op && x !== 0) pipeline.push(op);
    else if (!op) rest[key] = value;
  }
  return { pipeline, rest };
}
