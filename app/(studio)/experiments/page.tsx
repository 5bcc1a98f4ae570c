import { NotBuiltYet } from "@/components/empty-state";
import { requirePageCaller } from "@/server/auth/page";

export default async function Page() {
  await requirePageCaller();
  return <NotBuiltYet title="experiments" />;
}
