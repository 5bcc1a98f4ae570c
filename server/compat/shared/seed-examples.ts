/** Helpers for checking mappers against the example JSON of the old API documents (/work/shared/seeds). */

/** The JSON types of every field, recursively (arrays by their first element): "same fields, same types". */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shapeOf(value[0])] : [];
  if (value === null) return "null";
  if (typeof value === "object") return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  return typeof value;
}
