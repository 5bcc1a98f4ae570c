export { v1InferenceStreamStop as POST } from "@/server/compat/studio-v1/inference";
export const dynamic = "force-dynamic";
