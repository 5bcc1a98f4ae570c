export { getV1SystemStats as GET } from "@/server/compat/studio-v1/system";
export const dynamic = "force-dynamic";
