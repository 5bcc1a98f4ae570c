import { startTraining } from "@/server/compat/handlers/training-metrics";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return startTraining(req);
}
