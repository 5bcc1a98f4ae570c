import { requirePageCaller } from "@/server/auth/page";
import { roleAtLeast } from "@/server/context";
import { ExperimentsView } from "./experiments-view";

export default async function ExperimentsPage() {
  const caller = await requirePageCaller();
  return <ExperimentsView canEdit={roleAtLeast(caller.role, "member")} />;
}
