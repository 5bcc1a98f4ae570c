import { requirePageCaller } from "@/server/auth/page";
import { roleAtLeast } from "@/server/context";
import { DatasetsView } from "./datasets-view";

export default async function DatasetsPage() {
  const caller = await requirePageCaller();
  return <DatasetsView canEdit={roleAtLeast(caller.role, "member")} />;
}
