import { eq, sql } from "drizzle-orm";
import { RateLimiterDrizzle, RateLimiterRes } from "rate-limiter-flexible";
import type { Db } from "@/db/client";
import { loginFailures, users } from "@/db/schema";
import { env } from "@/server/env";
import { RateLimited, Unauthorized } from "@/server/errors";
import { dummyPasswordHash, verifyPassword } from "./password";

const WINDOW_SECONDS = 15 * 60;
const limiters = new WeakMap<Db, RateLimiterDrizzle>();

function failureLimiter(db: Db): RateLimiterDrizzle {
  let limiter = limiters.get(db);
  if (!limiter) {
    limiter = new RateLimiterDrizzle({
      storeClient: db,
      schema: loginFailures,
      points: env().STUDIO_LOGIN_MAX_FAILURES,
      duration: WINDOW_SECONDS,
      clearExpiredByTimeout: false,
    });
    limiters.set(db, limiter);
  }
  return limiter;
}

function tooMany(res: RateLimiterRes): RateLimited {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new RateLimited(`Too many failed logins for this account; try again in ${seconds} s`, seconds);
}

/**
 * Checks email and password. Failed attempts are counted per account+IP in PostgreSQL, so
 * the limit holds across web-server processes; past the limit every attempt answers 429.
 */
export async function checkLogin(db: Db, email: string, password: string, ip: string) {
  const limiter = failureLimiter(db);
  const key = `${email.trim().toLowerCase()}|${ip}`;
  const seen = await limiter.get(key);
  if (seen && seen.consumedPoints >= env().STUDIO_LOGIN_MAX_FAILURES) throw tooMany(seen);

  const [user] = await db.select().from(users).where(eq(sql`lower(${users.email})`, email.trim().toLowerCase()));
  const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
  if (!user || !ok || user.disabled) {
    try {
      await limiter.consume(key);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw tooMany(res);
      throw res;
    }
    throw new Unauthorized(user?.disabled && ok ? "This account is disabled" : "Wrong email or password");
  }
  await limiter.delete(key);
  return user;
}
