// Every node type (layers and blocks) as data an editor can draw: palette group, inputs, and each
// field's JSON schema (type, range, enum) with its default, from the type's own zod schema — so a
// new layer type shows up in the builder, with its form, without UI code.
import { z } from "zod";
import { blockTypes } from "./blocks";
import { layerTypes, type LayerCategory } from "./index";

export interface FieldInfo {
  name: string;
  /** The field's JSON schema (input side: what a form may send), with `default` where the type has one. */
  schema: Record<string, unknown>;
  required: boolean;
}

export interface NodeTypeInfo {
  type: string;
  aliases: string[];
  description: string;
  category: LayerCategory;
  kind: "layer" | "block";
  inputs: { min: number; max: number };
  fields: FieldInfo[];
}

type JsonObject = { properties?: Record<string, Record<string, unknown>> };

function fieldsOf(schema: z.ZodType): FieldInfo[] {
  const input = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonObject;
  const output = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as JsonObject;
  // Required = what an empty object lacks; preprocessors (aliases, string → number) hide it from the JSON schema.
  const empty = schema.safeParse({});
  const missing = new Set(empty.success ? [] : empty.error.issues.filter((i) => i.path.length === 1).map((i) => String(i.path[0])));
  // Defaults a preprocessor supplies (activation) show in a parse with the required fields filled in.
  const filled = schema.safeParse(Object.fromEntries([...missing].map((name) => [name, 1])));
  const parsed = (filled.success ? filled.data : {}) as Record<string, unknown>;
  return Object.entries(input.properties ?? {}).map(([name, field]) => {
    const primitive = ["string", "number", "boolean"].includes(typeof parsed[name]) && !missing.has(name) ? parsed[name] : undefined;
    const fallback = output.properties?.[name]?.default ?? primitive;
    return { name, schema: field.default === undefined && fallback !== undefined ? { ...field, default: fallback } : field, required: missing.has(name) };
  });
}

let cached: NodeTypeInfo[] | undefined;

export function nodeTypeCatalog(): NodeTypeInfo[] {
  cached ??= [
    ...layerTypes().map((def) => ({ type: def.type, aliases: def.aliases ?? [], description: def.description, category: def.category, kind: "layer" as const, inputs: def.inputs, fields: fieldsOf(def.dataSchema) })),
    ...blockTypes().map((def) => ({
      type: def.type,
      aliases: def.aliases ?? [],
      description: def.description,
      category: "block" as const,
      kind: "block" as const,
      inputs: def.inputs,
      fields: fieldsOf(def.dataSchema),
    })),
  ];
  return cached;
}
