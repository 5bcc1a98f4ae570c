export { healthRoute as GET } from "@/server/system/health-route";
export const dynamic = "force-dynamic";
