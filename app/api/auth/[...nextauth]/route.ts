export { nextAuthRoute as GET, nextAuthRoute as POST } from "@/server/auth/next-auth-route";
export const dynamic = "force-dynamic";
