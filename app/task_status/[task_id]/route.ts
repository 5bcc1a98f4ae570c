export { getTaskStatus as GET } from "@/server/compat/task-status/handlers";
export const dynamic = "force-dynamic";
