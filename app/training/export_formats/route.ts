import { exportFormats } from "@/server/compat/handlers/training-module-weights";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return exportFormats(req);
}
