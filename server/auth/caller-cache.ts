import type { DbOrTx } from "@/db/client";
import type { Caller } from "@/server/context";
import { publish } from "@/server/events/bus";
import { SYSTEM_TOPIC } from "@/server/events/types";

/**
 * Resolving a credential costs database round trips on every request; status pages and old
 * clients poll hard. A resolved caller is reused for TTL_MS. Revoking a key or token and
 * changing a user's access clear this process's cache at once (accessChanged); other web
 * processes notice within TTL_MS, realtime sidecars at once through the event bus.
 */
const CALLER_CACHE_TTL_MS = 2_000;
const MAX_ENTRIES = 5_000;
// On globalThis: the web process loads this module twice (Next's bundle and the fast status routes
// in workers/web.ts), and a revocation through one must clear the cache the other reads.
const globalForCache = globalThis as unknown as { studioCallerCaches?: WeakMap<object, Map<string, { caller: Caller; expiresAt: number }>> };
const caches = (globalForCache.studioCallerCaches ??= new WeakMap());

export async function cachedCaller(db: DbOrTx, credential: string, resolve: () => Promise<Caller | null>): Promise<Caller | null> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(credential);
  if (hit && hit.expiresAt > Date.now()) return hit.caller;
  const caller = await resolve();
  if (caller) {
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(credential, { caller, expiresAt: Date.now() + CALLER_CACHE_TTL_MS });
  } else {
    cache.delete(credential);
  }
  return caller;
}

export function forgetCachedCallers(db: DbOrTx): void {
  caches.get(db)?.clear();
}

/** After a change that may take access away: forget cached callers here and tell the realtime sidecars. */
export async function accessChanged(db: DbOrTx): Promise<void> {
  forgetCachedCallers(db);
  await publish(db, { type: "auth.changed", teamId: null, topic: SYSTEM_TOPIC });
}
