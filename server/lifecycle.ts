/**
 * Graceful shutdown for process entry points: SIGTERM, SIGINT, or the supervisor going away
 * (its IPC channel closes), so a killed supervisor never leaves orphan children behind.
 */
export function onShutdown(name: string, stop: () => Promise<void>, timeoutMs = 15_000): void {
  let stopping = false;
  const run = (reason: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[${name}] stopping (${reason})`);
    const timer = setTimeout(() => {
      console.error(`[${name}] did not stop within ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop()
      .then(() => process.exit(0))
      .catch((err) => {
        console.error(`[${name}] error while stopping`, err);
        process.exit(1);
      });
  };
  process.once("SIGTERM", () => run("SIGTERM"));
  process.once("SIGINT", () => run("SIGINT"));
  if (process.connected) process.once("disconnect", () => run("supervisor gone"));
}
