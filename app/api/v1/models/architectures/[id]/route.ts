export { updateV1Architecture as PUT, deleteV1Architecture as DELETE } from "@/server/compat/studio-v1/architectures";
export const dynamic = "force-dynamic";
