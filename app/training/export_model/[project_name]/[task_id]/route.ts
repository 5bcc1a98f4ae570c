export { exportModel as POST } from "@/server/compat/training-module/weights-handlers";
export const dynamic = "force-dynamic";
