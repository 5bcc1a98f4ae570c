export { previewV1Dataset as GET } from "@/server/compat/studio-v1/datasets";
export const dynamic = "force-dynamic";
