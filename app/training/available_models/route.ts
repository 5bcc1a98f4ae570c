export { availableModels as GET } from "@/server/compat/training-module/handlers";
export const dynamic = "force-dynamic";
