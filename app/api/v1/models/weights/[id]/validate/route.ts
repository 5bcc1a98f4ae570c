export { validateV1Weights as POST } from "@/server/compat/studio-v1/weights";
export const dynamic = "force-dynamic";
