import { requirePageCaller } from "@/server/auth/page";
import { SystemView } from "./system-view";

export default async function SystemPage() {
  const caller = await requirePageCaller();
  return <SystemView isAdmin={caller.isAdmin} />;
}
