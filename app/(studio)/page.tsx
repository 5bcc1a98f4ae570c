import { redirect } from "next/navigation";
import { requirePageCaller } from "@/server/auth/page";

export default async function Home() {
  await requirePageCaller();
  redirect("/projects");
}
