"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";
import { signOut, useSession } from "next-auth/react";
import { useT, type MessageKey } from "./i18n";

const nav: { href: string; key: MessageKey }[] = [
  { href: "/projects", key: "projects" },
  { href: "/datasets", key: "datasets" },
  { href: "/augmentations", key: "augmentations" },
  { href: "/architectures", key: "models" },
  { href: "/experiments", key: "experiments" },
  { href: "/weights", key: "weights" },
  { href: "/inference", key: "inference" },
  { href: "/system", key: "system" },
  { href: "/fleet", key: "fleet" },
  { href: "/docs", key: "apiDocs" },
  { href: "/settings", key: "settings" },
];

export interface ShellHeaderProps {
  email: string;
  isAdmin: boolean;
  teamId: number;
  teams: { id: number; name: string; role: string }[];
}

export function ShellHeader({ email, isAdmin, teamId, teams }: ShellHeaderProps) {
  const { t, roleLabel, lang, setLang } = useT();
  const pathname = usePathname();
  // next-auth's update() silently does nothing until the session has loaded: switch only after that.
  const { update, status } = useSession();
  // The chosen team shows at once, while the session switches and the page reloads in it.
  const [shownTeamId, setShownTeamId] = useState(teamId);

  async function switchTeam(id: number) {
    setShownTeamId(id);
    await update({ teamId: id });
    window.location.href = "/projects";
  }

  return (
    <header className="shell">
      <Link href="/" className="brand">
        {t("brand")}
      </Link>
      <nav>
        {[...nav, ...(isAdmin ? [{ href: "/admin", key: "admin" as const }] : [])].map((item) => (
          <Link key={item.href} href={item.href} className={pathname.startsWith(item.href) ? "active" : undefined}>
            {t(item.key)}
          </Link>
        ))}
      </nav>
      <label className="row" title={t("team")}>
        <span className="muted">{t("team")}</span>
        <select aria-label="team" disabled={status !== "authenticated"} value={shownTeamId} onChange={(e) => switchTeam(Number(e.target.value))}>
          {teams.map((team) => (
            <option key={team.id} value={team.id}>
              {team.name} ({roleLabel(team.role)})
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => setLang(lang === "en" ? "zh" : "en")}>
        {t("language")}
      </button>
      <Link href="/settings" title={email} style={{ color: "#b9c4d6" }}>
        {email}
      </Link>
      <button type="button" onClick={() => signOut({ callbackUrl: "/login" })}>
        {t("logout")}
      </button>
    </header>
  );
}
