"use client";

import { useQuery } from "@tanstack/react-query";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

/** Who saved each version, when, and how the parameter count changed; a version opens in the editor (saving it makes it the newest). */
export function Versions({ architectureId, onOpen }: { architectureId: number; onOpen(version: number): void }) {
  const { t } = useT();
  const trpc = useTRPC();
  const versions = useQuery(trpc.architectures.versions.queryOptions({ id: architectureId }));
  if (versions.error) return <p className="error">{errorText(versions.error)}</p>;
  const rows = versions.data ?? [];
  return (
    <table data-testid="versions">
      <thead>
        <tr>
          <th>{t("version")}</th>
          <th>{t("savedBy")}</th>
          <th>{t("savedAt")}</th>
          <th>{t("parameters")}</th>
          <th>{t("change")}</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((v, i) => {
          const before = rows[i + 1]?.totalParams;
          const delta = before !== undefined && before !== null && v.totalParams !== null ? v.totalParams - before : null;
          return (
            <tr key={v.version}>
              <td>v{v.version}</td>
              <td>{v.author ?? "—"}</td>
              <td>{new Date(v.createdAt).toLocaleString()}</td>
              <td>{v.totalParams?.toLocaleString("en-US")}</td>
              <td>{delta === null ? "—" : `${delta >= 0 ? "+" : ""}${delta.toLocaleString("en-US")}`}</td>
              <td>
                <button type="button" onClick={() => onOpen(v.version)}>
                  {t("openVersion")}
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
