export { plotRoute as GET } from "@/server/experiments/routes";
export const dynamic = "force-dynamic";
