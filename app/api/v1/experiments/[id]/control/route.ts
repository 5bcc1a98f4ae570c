export { controlV1Experiment as POST } from "@/server/compat/studio-v1/experiments";
export const dynamic = "force-dynamic";
