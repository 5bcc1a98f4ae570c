/**
 * Helpers for checking mappers against the example JSON of the old API documents
 * (/work/shared/seeds): examples print naive times, we print the same time with its UTC zone.
 */
const NAIVE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

export function withUtcZone<T>(example: T): T {
  if (typeof example === "string") return (NAIVE_TIME.test(example) ? `${example}+00:00` : example) as T;
  if (Array.isArray(example)) return example.map(withUtcZone) as T;
  if (example && typeof example === "object") return Object.fromEntries(Object.entries(example).map(([k, v]) => [k, withUtcZone(v)])) as T;
  return example;
}

/** The JSON types of every field, recursively (arrays by their first element): "same fields, same types". */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shapeOf(value[0])] : [];
  if (value === null) return "null";
  if (typeof value === "object") return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  return typeof value;
}
