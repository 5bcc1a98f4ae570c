"use client";

import { Fragment, useMemo, useState, type ReactNode } from "react";
import { useT } from "@/components/i18n";
import type { OpenApiDocument } from "@/server/http/openapi";

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  additionalProperties?: Schema | boolean;
  contentMediaType?: string;
  [constraint: string]: unknown;
};
type Operation = OpenApiDocument["paths"][string][string];
type Parameter = { name: string; in: string; required: boolean; description?: string; schema: Schema };
type Content = Record<string, { schema?: Schema }>;

const CONSTRAINTS = ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "pattern", "format"];

/** `code` spans in the tables' prose, nothing more: the text is ours, but never HTML. */
function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split("\n\n").map((paragraph, i) => (
        <p key={i}>{paragraph.split(/(`[^`]+`)/).map((part, j) => (part.startsWith("`") && part.endsWith("`") ? <code key={j}>{part.slice(1, -1)}</code> : <Fragment key={j}>{part}</Fragment>))}</p>
      ))}
    </>
  );
}

function typeOf(schema: Schema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map(typeOf).join(" | ");
  if (schema.allOf) return schema.allOf.map(typeOf).join(" & ");
  if (schema.contentMediaType) return "file";
  if (schema.type === "array") return `${schema.items ? typeOf(schema.items) : "any"}[]`;
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  return schema.type ?? "any";
}

function constraints(schema: Schema): string {
  const shown = CONSTRAINTS.filter((key) => schema[key] !== undefined).map((key) => `${key} ${String(schema[key])}`);
  if (schema.default !== undefined) shown.push(`default ${JSON.stringify(schema.default)}`);
  return shown.join(", ");
}

/** An object's fields as rows, nested objects indented under their field. */
function SchemaRows({ schema, depth = 0 }: { schema: Schema; depth?: number }): ReactNode {
  const variants = schema.anyOf ?? schema.oneOf ?? (schema.allOf && schema.allOf.length > 1 ? schema.allOf : undefined);
  const objects = variants?.filter((v) => v.properties) ?? [];
  if (!schema.properties && objects.length > 0) return objects.map((variant, i) => <SchemaRows key={i} schema={variant} depth={depth} />);
  return Object.entries(schema.properties ?? {}).map(([name, field]) => {
    const nested = field.properties ? field : field.type === "array" && field.items?.properties ? field.items : null;
    return (
      <Fragment key={name}>
        <tr>
          <td style={{ paddingLeft: 10 + depth * 18 }}>
            <code>{name}</code>
            {schema.required?.includes(name) && <span className="api-required">*</span>}
          </td>
          <td>
            <code>{typeOf(field)}</code>
          </td>
          <td className="muted">{constraints(field)}</td>
          <td>{field.description}</td>
        </tr>
        {nested && <SchemaRows schema={nested} depth={depth + 1} />}
      </Fragment>
    );
  });
}

function Body({ content }: { content: Content }) {
  return Object.entries(content).map(([type, { schema }]) => (
    <div key={type}>
      <div className="muted">
        <code>{type}</code>
      </div>
      {schema && (schema.properties || schema.anyOf || schema.oneOf || schema.allOf) ? (
        <table className="api-fields">
          <tbody>
            <SchemaRows schema={schema} />
          </tbody>
        </table>
      ) : (
        schema && Object.keys(schema).length > 0 && <code>{typeOf(schema)}</code>
      )}
    </div>
  ));
}

function OperationView({ method, path, op }: { method: string; path: string; op: Operation }) {
  const { t } = useT();
  const parameters = (op.parameters ?? []) as Parameter[];
  const body = op.requestBody as { content: Content } | undefined;
  return (
    <details className="api-op" id={op.operationId}>
      <summary>
        <span className={`api-method api-${method}`}>{method.toUpperCase()}</span> <code>{path}</code> <span className="muted">{op.summary}</span>
        {op.security && <span className="badge">{t("apiOpen")}</span>}
      </summary>
      <Prose text={op.description} />
      {parameters.length > 0 && (
        <>
          <h3>{t("apiParameters")}</h3>
          <table className="api-fields">
            <tbody>
              {parameters.map((p) => (
                <tr key={`${p.in}:${p.name}`}>
                  <td>
                    <code>{p.name}</code>
                    {p.required && <span className="api-required">*</span>}
                  </td>
                  <td className="muted">{p.in}</td>
                  <td>
                    <code>{typeOf(p.schema)}</code> <span className="muted">{constraints(p.schema)}</span>
                  </td>
                  <td>{p.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {body && (
        <>
          <h3>{t("apiRequestBody")}</h3>
          <Body content={body.content} />
        </>
      )}
      <h3>{t("apiResponses")}</h3>
      {Object.entries(op.responses as Record<string, { description: string; content?: Content }>).map(([status, answer]) => (
        <div key={status} className="api-response">
          <strong>{status === "default" ? t("apiError") : status}</strong> <Prose text={answer.description} />
          {answer.content && <Body content={answer.content} />}
        </div>
      ))}
    </details>
  );
}

export function ApiDocs({ document }: { document: OpenApiDocument }) {
  const { t } = useT();
  const [filter, setFilter] = useState("");
  const byTag = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const matches = (path: string, op: Operation) => !needle || `${path} ${op.summary} ${op.description}`.toLowerCase().includes(needle);
    return document.tags.map((tag) => ({
      tag,
      operations: Object.entries(document.paths).flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([, op]) => op.tags.includes(tag.name) && matches(path, op))
          .map(([method, op]) => ({ method, path, op })),
      ),
    }));
  }, [document, filter]);

  return (
    <>
      <h1>{t("apiTitle")}</h1>
      <div className="row">
        <input aria-label={t("search")} placeholder={t("apiFilter")} value={filter} onChange={(e) => setFilter(e.target.value)} style={{ minWidth: 320 }} />
        <a href="/openapi.json" download="openapi.json">
          openapi.json
        </a>
        <span className="muted">
          OpenAPI {document.openapi} · {t("studioVersion", { version: document.info.version })}
        </span>
      </div>
      <Prose text={document.info.description} />
      {byTag.map(({ tag, operations }) => (
        <section key={tag.name} className="panel">
          <h2>{tag.name}</h2>
          <Prose text={tag.description} />
          {operations.length === 0 ? <p className="muted">{t("apiNoMatch")}</p> : operations.map(({ method, path, op }) => <OperationView key={`${method} ${path}`} method={method} path={path} op={op} />)}
        </section>
      ))}
    </>
  );
}
