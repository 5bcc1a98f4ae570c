import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import type { Caller, Ctx } from "@/server/context";
import { authenticate } from "./callers";

/** Every studio page calls this itself: the caller from the session cookie, or a redirect to the login page. */
export async function requirePageCaller(): Promise<Caller> {
  const cookieHeader = (await cookies()).toString();
  const caller = await authenticate(getDb().db, { cookie: cookieHeader });
  if (!caller) {
    const path = (await headers()).get("x-studio-path") ?? "/";
    redirect(`/login?callbackUrl=${encodeURIComponent(path)}`);
  }
  return caller;
}

/** For pages that call services: the database and the page's caller (or a redirect to the login page). */
export async function requirePageContext(): Promise<Ctx> {
  return { db: getDb().db, caller: await requirePageCaller() };
}
