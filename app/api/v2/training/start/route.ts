export { startTraining as POST } from "@/server/compat/training-metrics/handlers";
export const dynamic = "force-dynamic";
