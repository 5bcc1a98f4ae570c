import { getActiveModel, setActiveModel } from "@/server/compat/handlers/recognition-models";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return getActiveModel(req);
}

export async function POST(req: Request) {
  return setActiveModel(req);
}
