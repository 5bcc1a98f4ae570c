export { predictUploadRoute as POST } from "@/server/inference/routes";
export const dynamic = "force-dynamic";
