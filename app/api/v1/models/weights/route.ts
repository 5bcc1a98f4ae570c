import { importV1Weights, listV1Weights } from "@/server/compat/handlers/studio-v1-weights";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return listV1Weights(req);
}

export async function POST(req: Request) {
  return importV1Weights(req);
}
