// An embedded PostgreSQL for a bench script, migrated, with one team, one member and their default project.
// Import it after setting STUDIO_* variables: env() is read once.

import net from "node:net";
import path from "node:path";
import { connect } from "@/db/client";
import { startEmbeddedPostgres } from "@/db/embedded";
import { runMigrations } from "@/db/migrate";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import type { Ctx } from "@/server/context";
import { defaultProject } from "@/server/projects/service";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export interface BenchDatabase {
  ctx: Ctx;
  projectId: number;
  close(): Promise<void>;
}

export async function startBenchDatabase(work: string): Promise<BenchDatabase> {
  const pg = await startEmbeddedPostgres({ dir: path.join(work, "pg"), port: await freePort(), password: "bench" });
  try {
    await pg.createDatabase("bench");
    await runMigrations(pg.url("bench"));
    const handle = connect(pg.url("bench"), { max: 4 });
    const team = await seedTeam(handle.db, "Bench");
    const user = await seedUser(handle.db, { email: "bench@x.io", teams: [{ teamId: team.id, role: "member" }] });
    const ctx = await ctxFor(handle.db, user.id, team.id);
    return {
      ctx,
      projectId: (await defaultProject(ctx)).id,
      async close() {
        await handle.close();
        await pg.stop();
      },
    };
  } catch (error) {
    await pg.stop();
    throw error;
  }
}
