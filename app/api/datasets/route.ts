export { uploadDatasetRoute as POST } from "@/server/datasets/routes";
export const dynamic = "force-dynamic";
