import { requirePageCaller } from "@/server/auth/page";
import { openApiDocument } from "@/server/http/openapi";
import { ApiDocs } from "./api-docs";

/** The REST faces' OpenAPI document, readable; the same document is served raw at /openapi.json. */
export default async function DocsPage() {
  await requirePageCaller();
  return <ApiDocs document={openApiDocument()} />;
}
