import { createV1Experiment, listV1Experiments } from "@/server/compat/handlers/studio-v1-experiments";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return listV1Experiments(req);
}

export async function POST(req: Request) {
  return createV1Experiment(req);
}
