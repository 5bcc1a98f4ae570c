export { exportFormats as GET } from "@/server/compat/training-module/weights-handlers";
export const dynamic = "force-dynamic";
