import { requirePageCaller } from "@/server/auth/page";
import { roleAtLeast } from "@/server/context";
import { ExperimentDetail } from "./experiment-detail";

export default async function ExperimentPage({ params }: { params: Promise<{ id: string }> }) {
  const caller = await requirePageCaller();
  const { id } = await params;
  return <ExperimentDetail id={Number(id)} canEdit={roleAtLeast(caller.role, "member")} />;
}
