export { deleteTask as POST } from "@/server/compat/training-module/handlers";
export const dynamic = "force-dynamic";
