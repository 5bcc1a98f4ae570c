export { listV1Architectures as GET, createV1Architecture as POST } from "@/server/compat/studio-v1/architectures";
export const dynamic = "force-dynamic";
