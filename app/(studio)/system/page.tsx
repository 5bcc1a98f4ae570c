import { requirePageCaller } from "@/server/auth/page";
import { SystemView } from "./system-view";

export default async function SystemPage() {
  await requirePageCaller();
  return <SystemView />;
}
