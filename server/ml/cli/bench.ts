import type { CliCommand } from "./args";

export const benchCommand: CliCommand = {
  name: "bench",
  keys: {},
  async run(_args, out) {
    const { runTrainBench } = await import("../../bench/train");
    await runTrainBench(out.print, []);
  },
};
