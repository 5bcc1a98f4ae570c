import { getJob, stopJob } from "@/server/compat/handlers/recognition";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ job_id: string }> };

export async function GET(req: Request, { params }: Params) {
  return getJob(req, { jobId: (await params).job_id });
}

/** Stops the job (the document's DELETE); the experiment and its results stay. */
export async function DELETE(req: Request, { params }: Params) {
  return stopJob(req, { jobId: (await params).job_id });
}
