export { suggestOptimalConfig as POST } from "@/server/compat/training-module/system";
export const dynamic = "force-dynamic";
