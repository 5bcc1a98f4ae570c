export { inferUpload as POST } from "@/server/compat/recognition/infer";
export const dynamic = "force-dynamic";
