export { listV1Datasets as GET, createV1Dataset as POST } from "@/server/compat/studio-v1/datasets";
export const dynamic = "force-dynamic";
