import { NotBuiltYet } from "@/components/empty-state";
import { requirePageCaller } from "@/server/auth/page";
import { AdminView } from "./admin-view";

export default async function AdminPage() {
  const caller = await requirePageCaller();
  if (!caller.isAdmin) return <NotBuiltYet title="admin" />;
  return <AdminView selfId={caller.userId} />;
}
