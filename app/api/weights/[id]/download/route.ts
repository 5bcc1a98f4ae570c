export { downloadWeightsRoute as GET } from "@/server/weights/routes";
export const dynamic = "force-dynamic";
