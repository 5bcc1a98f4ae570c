import { v1InferenceStreamStart } from "@/server/compat/handlers/studio-v1-inference";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return v1InferenceStreamStart(req);
}
