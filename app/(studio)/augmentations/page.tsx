import { requirePageCaller } from "@/server/auth/page";
import { roleAtLeast } from "@/server/context";
import { AugmentationsView } from "./augmentations-view";

export default async function AugmentationsPage() {
  const caller = await requirePageCaller();
  return <AugmentationsView canEdit={roleAtLeast(caller.role, "member")} />;
}
