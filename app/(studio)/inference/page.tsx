import { requirePageCaller } from "@/server/auth/page";
import { InferenceLab } from "./inference-lab";

export default async function Page() {
  await requirePageCaller();
  return <InferenceLab />;
}
