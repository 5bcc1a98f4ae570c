export { openApiRoute as GET } from "@/server/http/openapi";
export const dynamic = "force-dynamic";
