"use client";

import { useQuery } from "@tanstack/react-query";
import { useT } from "@/components/i18n";
import { LineChart, type ChartSeries } from "@/components/line-chart";
import { errorText, useTRPC } from "@/components/trpc";

type Point = { t: number; cpuPercent: number; memoryPercent: number; gpuUtilPercent: number | null; gpuMemoryPercent: number | null; run: { cpuPercent: number | null; rssBytes: number | null; gpuMemoryMiB: number | null } | null };

const series = (name: string, points: Point[], start: number, pick: (p: Point) => number | null): ChartSeries => ({
  name,
  points: points.flatMap((p) => {
    const y = pick(p);
    return y === null ? [] : [{ x: (p.t - start) / 60_000, y }];
  }),
});

/** The host's CPU, memory and GPU beside the run's own process, over the time the run trained there (per host it ran on). */
export function RunSystemCharts({ experimentId, live }: { experimentId: number; live: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const data = useQuery({ ...trpc.system.runSeries.queryOptions({ id: experimentId }), refetchInterval: live ? 5000 : false });
  const windows = data.data?.windows ?? [];
  return (
    <div className="panel" data-testid="system-charts">
      <h2>{t("systemCharts")}</h2>
      {data.error && <p className="error">{errorText(data.error)}</p>}
      {data.data && windows.length === 0 && <p className="muted">{t("noSystemSamples")}</p>}
      {windows.map((w) => {
        const start = new Date(w.from).getTime();
        const points = w.points as Point[];
        return (
          <div key={`${w.host}-${w.pid}`}>
            <p className="muted">
              {w.host} · PID {w.pid} · {w.resolution} {w.gpuUnavailable && `· ${w.gpuUnavailable}`}
            </p>
            <LineChart
              title="system utilisation"
              caption={t("utilisation")}
              xLabel={t("minutesAxis")}
              series={[
                series(t("hostCpu"), points, start, (p) => p.cpuPercent),
                series(t("processCpu"), points, start, (p) => p.run?.cpuPercent ?? null),
                series(t("gpuUtil"), points, start, (p) => p.gpuUtilPercent),
              ]}
            />
            <LineChart
              title="system memory"
              caption={t("memory")}
              xLabel={t("minutesAxis")}
              series={[
                series(t("hostMemory"), points, start, (p) => p.memoryPercent),
                series(t("gpuMemory"), points, start, (p) => p.gpuMemoryPercent),
                series(t("processRss"), points, start, (p) => (p.run?.rssBytes == null ? null : p.run.rssBytes / 2 ** 30)),
                series(t("processGpuMemory"), points, start, (p) => (p.run?.gpuMemoryMiB == null ? null : p.run.gpuMemoryMiB / 1024)),
              ]}
            />
          </div>
        );
      })}
    </div>
  );
}
