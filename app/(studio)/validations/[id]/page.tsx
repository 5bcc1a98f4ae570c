import { requirePageCaller } from "@/server/auth/page";
import { ValidationPage } from "./validation-page";

export default async function ValidationAnalysisPage({ params }: { params: Promise<{ id: string }> }) {
  await requirePageCaller();
  const { id } = await params;
  return <ValidationPage id={Number(id)} />;
}
