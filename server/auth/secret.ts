import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env } from "@/server/env";

let secret: string | undefined;

/** STUDIO_SECRET, or one generated on first start and kept in the data folder. */
export function studioSecret(): string {
  if (secret) return secret;
  const e = env();
  if (e.STUDIO_SECRET) return (secret = e.STUDIO_SECRET);
  const file = path.join(e.dataDir, "secret");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(e.dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(48).toString("base64url"), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  return (secret = fs.readFileSync(file, "utf8").trim());
}
