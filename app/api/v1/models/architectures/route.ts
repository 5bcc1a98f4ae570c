import { createV1Architecture, listV1Architectures } from "@/server/compat/handlers/studio-v1-architectures";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return listV1Architectures(req);
}

export async function POST(req: Request) {
  return createV1Architecture(req);
}
