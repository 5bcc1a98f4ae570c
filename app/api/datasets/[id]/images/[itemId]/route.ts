export { datasetImageRoute as GET } from "@/server/datasets/routes";
export const dynamic = "force-dynamic";
