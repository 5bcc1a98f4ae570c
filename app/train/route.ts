export { listJobs as GET, startJob as POST } from "@/server/compat/recognition/jobs";
export const dynamic = "force-dynamic";
