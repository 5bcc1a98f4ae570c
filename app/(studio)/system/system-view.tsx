"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

function StatusBadge({ status }: { status: string }) {
  return (
    <span className="badge" style={{ background: status === "up" ? "#e3f5ea" : "#fbe7e5", color: status === "up" ? "var(--ok)" : "var(--danger)" }}>
      {status}
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
            Studio {health.data.version}: <StatusBadge status={health.data.status} />
          </p>
          <table>
            <tbody>
              <tr>
                <th>Database</th>
                <td>
                  <StatusBadge status={checks!.database.status} /> {checks!.database.version} {checks!.database.latencyMs !== undefined && `(${checks!.database.latencyMs} ms)`}
                </td>
              </tr>
              <tr>
                <th>Queue</th>
                <td>
                  <StatusBadge status={checks!.queue.status} /> pg-boss schema {checks!.queue.schema} {checks!.queue.schemaVersion !== undefined && `v${checks!.queue.schemaVersion}`}
                </td>
              </tr>
              <tr>
                <th>Workers</th>
                <td>
                  <StatusBadge status={checks!.workers.status} /> {checks!.workers.workers.filter((w) => w.alive).length} alive
                </td>
              </tr>
              <tr>
                <th>Realtime</th>
                <td>
                  <StatusBadge status={checks!.realtime.status} /> {checks!.realtime.connections ?? 0} connections
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
      <h2>Worker processes</h2>
      <div className="panel">
        {workers.data?.length === 0 && <p className="empty">No worker has registered yet.</p>}
        <table>
          <thead>
            <tr>
              <th>Kind</th>
              <th>Host</th>
              <th>PID</th>
              <th>Slots</th>
              <th>Devices</th>
              <th>Last heartbeat</th>
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
                  {w.lastBeatSecondsAgo} s ago <StatusBadge status={w.alive ? "up" : "down"} />
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
  const trpc = useTRPC();
  const [type, setType] = useState<(typeof LOG_TYPES)[number]>("all");
  const logs = useQuery({ ...trpc.system.logs.queryOptions({ type, limit: 200 }), refetchInterval: 5_000 });
  return (
    <>
      <h2>Logs</h2>
      <div className="panel">
        <select aria-label="log source" value={type} onChange={(e) => setType(e.target.value as typeof type)}>
          {LOG_TYPES.map((t) => (
            <option key={t}>{t}</option>
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
