import { requirePageCaller } from "@/server/auth/page";
import { DiffView } from "./diff-view";

export default async function DiffPage({ searchParams }: { searchParams: Promise<{ a?: string; b?: string; split?: string; conf?: string }> }) {
  await requirePageCaller();
  const { a, b, split, conf } = await searchParams;
  return <DiffView initial={{ a: a ?? "", b: b ?? "", split: split === "test" ? "test" : "val", conf: Number.isFinite(Number(conf)) && conf ? Number(conf) : 0.25 }} />;
}
