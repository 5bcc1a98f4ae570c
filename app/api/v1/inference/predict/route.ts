export { v1InferencePredict as POST } from "@/server/compat/studio-v1/inference";
export const dynamic = "force-dynamic";
