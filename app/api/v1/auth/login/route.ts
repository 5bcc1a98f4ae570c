export { loginV1 as POST } from "@/server/compat/studio-v1/auth";
export const dynamic = "force-dynamic";
