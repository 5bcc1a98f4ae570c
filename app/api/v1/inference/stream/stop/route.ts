import { v1InferenceStreamStop } from "@/server/compat/handlers/studio-v1-inference";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return v1InferenceStreamStop(req);
}
