import { subscribe, type Subscription } from "./bus";

/**
 * Lets request handlers that stream a table (SSE) sleep until the next event on a topic instead of
 * polling: one LISTEN connection per process and database, shared by every watcher. Events are
 * only hints; the watcher reads its table after waking, and wakes anyway after its timeout, so a
 * lost notification delays a line, never drops it.
 */
export interface TopicWatch {
  /**
   * Resolves at once if an event came since the last call (so one arriving while the caller read
   * its table is not missed), else on the next event, after `timeoutMs`, or when the watch closes.
   */
  wait(timeoutMs: number): Promise<void>;
  close(): void;
}

export interface TopicWakeups {
  watch(topic: string): Promise<TopicWatch>;
}

const hubs = new Map<string, TopicWakeups>();

export function topicWakeups(databaseUrl: string): TopicWakeups {
  let hub = hubs.get(databaseUrl);
  if (!hub) hubs.set(databaseUrl, (hub = createHub(databaseUrl)));
  return hub;
}

function createHub(databaseUrl: string): TopicWakeups {
  const listeners = new Map<string, Set<() => void>>();
  const notify = (topic: string) => listeners.get(topic)?.forEach((listener) => listener());
  let subscription: Promise<Subscription | null> | undefined;
  const listen = () =>
    (subscription ??= subscribe(databaseUrl, (event) => notify(event.topic), {
      // Events were lost while the connection was down: everyone reads their table again.
      onReconnect: () => [...listeners.keys()].forEach(notify),
    }).catch((error: Error) => {
      console.error(`[events] cannot listen for events, streams poll instead: ${error.message}`);
      subscription = undefined;
      return null;
    }));

  return {
    async watch(topic) {
      await listen();
      return watchWith((listener) => {
        const set = listeners.get(topic) ?? new Set();
        listeners.set(topic, set);
        set.add(listener);
        return () => {
          set.delete(listener);
          if (set.size === 0 && listeners.get(topic) === set) listeners.delete(topic);
        };
      });
    },
  };
}

/** A watch woken by whatever calls the listener it registers; `register` returns how to unregister it. */
export function watchWith(register: (wake: () => void) => () => void): TopicWatch {
  let pending = false;
  let closed = false;
  let wakeWaiter: (() => void) | undefined;
  const unregister = register(() => {
    pending = true;
    wakeWaiter?.();
  });
  return {
    async wait(timeoutMs) {
      if (!pending && !closed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => wakeWaiter?.(), timeoutMs);
          wakeWaiter = () => {
            clearTimeout(timer);
            wakeWaiter = undefined;
            resolve();
          };
        });
      }
      pending = false;
    },
    close() {
      closed = true;
      unregister();
      wakeWaiter?.();
    },
  };
}
