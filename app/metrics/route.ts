export { listMetrics as GET } from "@/server/compat/recognition/models";
export const dynamic = "force-dynamic";
