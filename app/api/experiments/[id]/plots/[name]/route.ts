import { withCaller } from "@/server/compat/http";
import { studioV1Error } from "@/server/compat/studio-v1";
import { servePlot } from "@/server/experiments/plots";
import { parsePathId } from "@/server/http/input";

export const dynamic = "force-dynamic";

/** A PNG of the run's plots/ folder (results.png, confusion_matrix.png …) for a logged-in client: session cookie or Bearer. */
export async function GET(req: Request, { params }: { params: Promise<{ id: string; name: string }> }) {
  const { id, name } = await params;
  return withCaller(req, studioV1Error, (ctx) => servePlot(ctx, parsePathId(id, "Experiment"), name));
}
