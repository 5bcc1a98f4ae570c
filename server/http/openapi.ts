import { z } from "zod";
import { recognitionApi } from "@/server/compat/recognition/api-doc";
import { studioV1Api } from "@/server/compat/studio-v1/api-doc";
import { taskStatusApi } from "@/server/compat/task-status/api-doc";
import { trainingMetricsApi } from "@/server/compat/training-metrics/api-doc";
import { trainingModuleApi } from "@/server/compat/training-module/api-doc";
import { STUDIO_VERSION } from "@/server/system/version";
import { withCaller } from "./handler";
import { restError } from "./rest-error";
import type { ResponseDoc, RouteDoc, RouteKey, RouteTable } from "./route-docs";
import { studioApi } from "./studio-api-doc";

/** Every REST face's route table. A new dialect adds its table here; a new route, its row in its table. */
export const API_TABLES: readonly RouteTable[] = [studioApi, trainingModuleApi, trainingMetricsApi, studioV1Api, recognitionApi, taskStatusApi];

type JsonSchema = Record<string, unknown>;

interface Operation {
  tags: string[];
  operationId: string;
  summary: string;
  description: string;
  parameters?: object[];
  requestBody?: object;
  responses: Record<string, object>;
  security?: object[];
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, object> };
  security: object[];
}

/** What a client sends: defaults make a field optional, transforms document the type they accept. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  void _dialect;
  return rest;
}

export function splitRouteKey(key: RouteKey): { method: string; path: string } {
  const space = key.indexOf(" ");
  return { method: key.slice(0, space), path: key.slice(space + 1) };
}

export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

function parameters(path: string, doc: RouteDoc): object[] {
  const out: object[] = pathParams(path).map((name) => ({ name, in: "path", required: true, description: doc.params?.[name] ?? "", schema: { type: "string" } }));
  if (doc.query) {
    const schema = jsonSchema(doc.query) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const { description, ...rest } = property;
      out.push({ name, in: "query", required: schema.required?.includes(name) ?? false, ...(description !== undefined && { description }), schema: rest });
    }
  }
  for (const [name, description] of Object.entries(doc.queryParams ?? {})) out.push({ name, in: "query", required: false, description, schema: { type: "string" } });
  return out;
}

function requestBody(doc: RouteDoc): object | undefined {
  const content: Record<string, object> = {};
  if (doc.body) content["application/json"] = { schema: jsonSchema(doc.body) };
  if (doc.form) {
    const properties = Object.fromEntries(
      Object.entries(doc.form).map(([name, field]) => [name, field.binary ? { type: "string", contentMediaType: "application/octet-stream", description: field.description } : { type: "string", description: field.description }]),
    );
    const required = Object.entries(doc.form).filter(([, field]) => field.required).map(([name]) => name);
    content["multipart/form-data"] = { schema: { type: "object", properties, ...(required.length > 0 && { required }) } };
  }
  return Object.keys(content).length > 0 ? { required: doc.body !== undefined || doc.form !== undefined, content } : undefined;
}

function response(doc: string | ResponseDoc): object {
  const { description, contentType = "application/json", schema } = typeof doc === "string" ? { description: doc } : doc;
  if (contentType === null) return { description };
  return { description, content: { [contentType]: schema ? { schema: jsonSchema(schema) } : {} } };
}

function operation(table: RouteTable, method: string, path: string, doc: RouteDoc): Operation {
  const params = parameters(path, doc);
  const body = requestBody(doc);
  const responses: Record<string, object> = Object.fromEntries(Object.entries(doc.responses).map(([status, answer]) => [status, response(answer)]));
  responses.default = { description: "An error, in this face's envelope.", content: { "application/json": { schema: jsonSchema(table.errorEnvelope) } } };
  return {
    tags: [table.name],
    operationId: `${method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    summary: doc.summary,
    description: doc.open ? `${doc.description}\n\nOpen without a login: ${doc.open}.` : doc.description,
    ...(params.length > 0 && { parameters: params }),
    ...(body && { requestBody: body }),
    responses,
    ...(doc.open && { security: [] }),
  };
}

/** The OpenAPI 3.1 document of the given tables (every face's, by default). */
export function openApiDocument(tables: readonly RouteTable[] = API_TABLES): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const table of tables) {
    for (const [key, doc] of Object.entries(table.routes) as [RouteKey, RouteDoc][]) {
      const { method, path } = splitRouteKey(key);
      const item = (paths[path] ??= {});
      if (item[method.toLowerCase()]) throw new Error(`${key} is described twice (again in "${table.name}")`);
      item[method.toLowerCase()] = operation(table, method, path, doc);
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Training studio",
      version: STUDIO_VERSION,
      description:
        "Every REST route of the studio: its own, and those of the five older backends whose clients it keeps serving (../shared/seeds). All of them share one set of experiments, datasets and weights, filtered by the caller's team.",
    },
    tags: tables.map((table) => ({ name: table.name, description: table.description })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A personal API key (Settings) or a JWT from POST /api/v1/auth/login; it acts for one team." },
        session: { type: "apiKey", in: "cookie", name: "next-auth.session-token", description: "The browser's session after signing in (`__Secure-next-auth.session-token` over HTTPS)." },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
  };
}

let built: OpenApiDocument | undefined;

/** `GET /openapi.json`, behind the login like every other route. */
export function openApiRoute(req: Request): Promise<Response> {
  return withCaller(req, restError, async () => Response.json((built ??= openApiDocument())));
}
