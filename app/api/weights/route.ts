export { uploadWeightsRoute as POST } from "@/server/weights/routes";
export const dynamic = "force-dynamic";
