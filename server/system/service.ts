import type { Ctx } from "@/server/context";
import { checkHealth } from "./health";
import { listWorkers } from "./workers";

/** Health of the studio's parts, for the System page (the same report as /api/health). */
export function systemHealth(ctx: Ctx) {
  return checkHealth({ db: ctx.db });
}

export function systemWorkers(ctx: Ctx) {
  return listWorkers(ctx.db);
}

/**
 * The training devices live workers reported (never a guess): what the new-experiment form
 * offers, plus `auto`, which lets the worker pick its fastest backend.
 */
export async function availableTrainingDevices(ctx: Ctx) {
  const live = (await listWorkers(ctx.db)).filter((w) => w.alive && w.kind === "training");
  const byDevice = new Map<string, { device: string; backend: string; description: string; hosts: string[] }>();
  for (const worker of live) {
    for (const d of worker.devices) {
      const entry = byDevice.get(d.device) ?? { ...d, hosts: [] };
      if (!entry.hosts.includes(worker.host)) entry.hosts.push(worker.host);
      byDevice.set(d.device, entry);
    }
  }
  return [{ device: "auto", backend: "auto", description: "fastest backend on the worker that runs it", hosts: live.map((w) => w.host) }, ...byDevice.values()];
}
