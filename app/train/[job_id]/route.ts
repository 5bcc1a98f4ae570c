export { getJob as GET, stopJob as DELETE } from "@/server/compat/recognition/jobs";
export const dynamic = "force-dynamic";
