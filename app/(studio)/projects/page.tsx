import { requirePageCaller } from "@/server/auth/page";
import { roleAtLeast } from "@/server/context";
import { ProjectsView } from "./projects-view";

export default async function ProjectsPage() {
  const caller = await requirePageCaller();
  return <ProjectsView canEdit={roleAtLeast(caller.role, "member")} canDelete={roleAtLeast(caller.role, "admin")} />;
}
