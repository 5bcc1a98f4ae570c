import { availableModels } from "@/server/compat/handlers/training-module";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return availableModels(req);
}
