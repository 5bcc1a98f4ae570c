import { v1InferenceDevices } from "@/server/compat/handlers/studio-v1-inference";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return v1InferenceDevices(req);
}
