import { listJobs, startJob } from "@/server/compat/handlers/recognition";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return listJobs(req);
}

export async function POST(req: Request) {
  return startJob(req);
}
