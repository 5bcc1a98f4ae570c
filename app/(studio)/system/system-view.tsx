"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

function StatusBadge({ status }: { status: string }) {
  const { statusLabel } = useT();
  return (
    <span className="badge" style={{ background: status === "up" ? "#e3f5ea" : "#fbe7e5", color: status === "up" ? "var(--ok)" : "var(--danger)" }}>
      {statusLabel(status)}
    </span>
  );
}

export function SystemView({ isAdmin }: { isAdmin: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const health = useQuery({ ...trpc.system.health.queryOptions(), refetchInterval: 5_000 });
  const workers = useQuery({ ...trpc.system.workers.queryOptions(), refetchInterval: 5_000 });
  const error = health.error ?? workers.error;
  const checks = health.data?.checks;

  return (
    <>
      <h1>{t("system")}</h1>
      {error && <p className="error">{errorText(error)}</p>}
      {health.data && (
        <div className="panel" data-testid="health">
          <p>
            {t("studioVersion", { version: health.data.version })}: <StatusBadge status={health.data.status} />
          </p>
          <table>
            <tbody>
              <tr>
                <th>{t("sysDatabase")}</th>
                <td>
                  <StatusBadge status={checks!.database.status} /> {checks!.database.version} {checks!.database.latencyMs !== undefined && `(${checks!.database.latencyMs} ms)`}
                </td>
              </tr>
              <tr>
                <th>{t("sysQueue")}</th>
                <td>
                  <StatusBadge status={checks!.queue.status} /> {t("queueSchema", { schema: checks!.queue.schema })} {checks!.queue.schemaVersion !== undefined && `v${checks!.queue.schemaVersion}`}
                </td>
              </tr>
              <tr>
                <th>{t("sysWorkers")}</th>
                <td>
                  <StatusBadge status={checks!.workers.status} /> {t("workersAlive", { count: checks!.workers.workers.filter((w) => w.alive).length })}
                </td>
              </tr>
              <tr>
                <th>{t("sysRealtime")}</th>
                <td>
                  <StatusBadge status={checks!.realtime.status} /> {t("connections", { count: checks!.realtime.connections ?? 0 })}
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
      <h2>{t("workerProcesses")}</h2>
      <div className="panel">
        {workers.data?.length === 0 && <p className="empty">{t("noWorkers")}</p>}
        <table>
          <thead>
            <tr>
              <th>{t("workerKind")}</th>
              <th>{t("host")}</th>
              <th>PID</th>
              <th>{t("slots")}</th>
              <th>{t("devices")}</th>
              <th>{t("lastHeartbeat")}</th>
            </tr>
          </thead>
          <tbody>
            {workers.data?.map((w) => (
              <tr key={w.id}>
                <td>{w.kind}</td>
                <td>{w.host}</td>
                <td>{w.pid}</td>
                <td>{w.slots}</td>
                <td>{w.devices.map((d) => d.description).join(", ") || "—"}</td>
                <td>
                  {t("secondsAgo", { seconds: w.lastBeatSecondsAgo })} <StatusBadge status={w.alive ? "up" : "down"} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {isAdmin && <SystemLogs />}
    </>
  );
}

const LOG_TYPES = ["all", "backend", "worker", "realtime", "studio"] as const;

/** What the studio's processes printed lately (administrators only: it spans every team). */
function SystemLogs() {
  const { t } = useT();
  const trpc = useTRPC();
  const [type, setType] = useState<(typeof LOG_TYPES)[number]>("all");
  const logs = useQuery({ ...trpc.system.logs.queryOptions({ type, limit: 200 }), refetchInterval: 5_000 });
  return (
    <>
      <h2>{t("logs")}</h2>
      <div className="panel">
        <select aria-label="log source" value={type} onChange={(e) => setType(e.target.value as typeof type)}>
          {LOG_TYPES.map((source) => (
            <option key={source} value={source}>
              {source === "all" ? t("all") : source}
            </option>
          ))}
        </select>
        {logs.error && <p className="error">{errorText(logs.error)}</p>}
        <pre className="log-console" data-testid="system-logs" style={{ maxHeight: 400, overflow: "auto" }}>
          {logs.data?.map((line) => `${new Date(line.at).toLocaleTimeString()} ${line.level.toUpperCase().padEnd(5)} ${line.source.padEnd(8)} ${line.message}`).join("\n")}
        </pre>
      </div>
    </>
  );
}
