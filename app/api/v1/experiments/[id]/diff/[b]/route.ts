export { getV1Diff as GET } from "@/server/compat/studio-v1/analysis";
export const dynamic = "force-dynamic";
