export { downloadV1Weights as GET } from "@/server/compat/studio-v1/weights";
export const dynamic = "force-dynamic";
