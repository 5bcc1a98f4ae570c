import { requirePageCaller } from "@/server/auth/page";
import { CompareView } from "./compare-view";

export default async function ComparePage({ searchParams }: { searchParams: Promise<{ ids?: string }> }) {
  await requirePageCaller();
  const { ids } = await searchParams;
  const list = (ids ?? "").split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0);
  return <CompareView ids={list} />;
}
