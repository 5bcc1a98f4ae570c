import type { ReactNode } from "react";
import { getDb } from "@/db/client";
import { requirePageCaller } from "@/server/auth/page";
import { myTeams } from "@/server/auth/users";
import { ShellHeader } from "@/components/shell-header";

export const dynamic = "force-dynamic";

export default async function StudioLayout({ children }: { children: ReactNode }) {
  const caller = await requirePageCaller();
  const teams = await myTeams({ db: getDb().db, caller });
  return (
    <>
      <ShellHeader email={caller.email} isAdmin={caller.isAdmin} teamId={caller.teamId} teams={teams} />
      <main className="page">{children}</main>
    </>
  );
}
