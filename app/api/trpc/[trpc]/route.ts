export { trpcRoute as GET, trpcRoute as POST } from "@/server/trpc/http";
export const dynamic = "force-dynamic";
