export { getV1ExperimentMetrics as GET } from "@/server/compat/studio-v1/experiments";
export const dynamic = "force-dynamic";
