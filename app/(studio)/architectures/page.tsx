import { requirePageCaller } from "@/server/auth/page";
import { roleAtLeast } from "@/server/context";
import { ArchitecturesView } from "./architectures-view";

export default async function ArchitecturesPage() {
  const caller = await requirePageCaller();
  return <ArchitecturesView canEdit={roleAtLeast(caller.role, "member")} />;
}
