export { getV1Dataset as GET, updateV1Dataset as PUT, deleteV1Dataset as DELETE } from "@/server/compat/studio-v1/datasets";
export const dynamic = "force-dynamic";
