import { saveConfig } from "@/server/compat/handlers/training-module";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return saveConfig(req);
}
