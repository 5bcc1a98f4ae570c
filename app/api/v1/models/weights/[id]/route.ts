export { getV1Weights as GET, updateV1Weights as PUT, deleteV1Weights as DELETE } from "@/server/compat/studio-v1/weights";
export const dynamic = "force-dynamic";
