export { v1InferenceDevices as GET } from "@/server/compat/studio-v1/inference";
export const dynamic = "force-dynamic";
