export { listV1Experiments as GET, createV1Experiment as POST } from "@/server/compat/studio-v1/experiments";
export const dynamic = "force-dynamic";
