import { requirePageCaller } from "@/server/auth/page";
import { NewExperimentForm } from "./new-experiment-form";

export default async function NewExperimentPage() {
  await requirePageCaller();
  return <NewExperimentForm />;
}
