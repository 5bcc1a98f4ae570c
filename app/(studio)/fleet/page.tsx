import { requirePageCaller } from "@/server/auth/page";
import { FleetView } from "./fleet-view";

export default async function FleetPage() {
  await requirePageCaller();
  return <FleetView />;
}
