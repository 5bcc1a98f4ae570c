export { v1InferenceStreamStart as POST } from "@/server/compat/studio-v1/inference";
export const dynamic = "force-dynamic";
