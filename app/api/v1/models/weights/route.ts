export { listV1Weights as GET, importV1Weights as POST } from "@/server/compat/studio-v1/weights";
export const dynamic = "force-dynamic";
