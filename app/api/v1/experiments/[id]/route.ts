export { getV1Experiment as GET, renameV1Experiment as PUT, deleteV1Experiment as DELETE } from "@/server/compat/studio-v1/experiments";
export const dynamic = "force-dynamic";
