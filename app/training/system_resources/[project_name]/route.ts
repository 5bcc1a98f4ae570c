export { systemResources as GET } from "@/server/compat/training-module/system";
export const dynamic = "force-dynamic";
