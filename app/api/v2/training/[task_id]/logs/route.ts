export { streamTrainingLogs as GET } from "@/server/compat/training-metrics/handlers";
export const dynamic = "force-dynamic";
