import { inferUpload } from "@/server/compat/handlers/recognition-infer";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return inferUpload(req);
}
