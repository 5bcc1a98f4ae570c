import { requirePageCaller } from "@/server/auth/page";
import { roleAtLeast } from "@/server/context";
import { WeightsView } from "./weights-view";

export default async function WeightsPage() {
  const caller = await requirePageCaller();
  return <WeightsView canEdit={roleAtLeast(caller.role, "member")} />;
}
