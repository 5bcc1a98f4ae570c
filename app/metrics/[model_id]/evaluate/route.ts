export { evaluateModel as POST } from "@/server/compat/recognition/models";
export const dynamic = "force-dynamic";
