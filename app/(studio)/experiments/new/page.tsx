import { requirePageCaller } from "@/server/auth/page";
import { NewExperimentForm } from "./new-experiment-form";

const positiveInt = (v: string | string[] | undefined) => (typeof v === "string" && /^[1-9]\d{0,9}$/.test(v) ? Number(v) : undefined);

/** `?architecture=<id>&project=<id>` (the builder's "Train this") opens the form with that architecture chosen. */
export default async function NewExperimentPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requirePageCaller();
  const params = await searchParams;
  return <NewExperimentForm architectureId={positiveInt(params.architecture)} projectId={positiveInt(params.project)} />;
}
