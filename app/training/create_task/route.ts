import { createTask } from "@/server/compat/handlers/training-module";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  return createTask(req);
}
