import type { ReactNode } from "react";
import { requirePageContext } from "@/server/auth/page";
import { myTeams } from "@/server/auth/users";
import { ShellHeader } from "@/components/shell-header";

export const dynamic = "force-dynamic";

export default async function StudioLayout({ children }: { children: ReactNode }) {
  const ctx = await requirePageContext();
  const { caller } = ctx;
  const teams = await myTeams(ctx);
  return (
    <>
      <ShellHeader email={caller.email} isAdmin={caller.isAdmin} teamId={caller.teamId} teams={teams} />
      <main className="page">{children}</main>
    </>
  );
}
