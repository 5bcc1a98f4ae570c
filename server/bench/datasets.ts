/**
 * Dataset import throughput and peak memory: 5,000 generated 64×64 JPEGs (ImageFolder, 10 classes), imported
 * once from a zip and once from a server folder, through the real import job handler against an embedded
 * PostgreSQL. One JSON line per case.
 *   npm run bench:datasets -- [--images 5000]
 */
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";

const { values } = parseArgs({ options: { images: { type: "string", default: "5000" } } });
const IMAGES = Number(values.images);
const CLASSES = 10;

const work = await mkdtemp(path.join(os.tmpdir(), "bench-datasets-"));
process.env.STUDIO_DATA_DIR = path.join(work, "data");
process.env.STUDIO_IMPORT_ROOTS = path.join(work, "roots");

// Imported after the environment is set: env() is read once.
const { startEmbeddedPostgres } = await import("@/db/embedded");
const { runMigrations } = await import("@/db/migrate");
const { connect } = await import("@/db/client");
const { ctxFor, seedTeam, seedUser } = await import("@/db/testing/fixtures");
const { defaultProject } = await import("@/server/projects/service");
const { runDatasetImport } = await import("@/server/datasets/import");
const { startDatasetImport } = await import("@/server/datasets/service");
const { tmpDir } = await import("@/server/datasets/storage");
const { writeTree, zipFolder, fileSize } = await import("@/server/datasets/testing");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** Distinct JPEGs: a gradient per class with a per-image offset, so content hashes differ. */
async function generate(root: string): Promise<void> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < IMAGES; i++) {
    const cls = i % CLASSES;
    const pixels = Buffer.alloc(64 * 64 * 3);
    for (let p = 0; p < 64 * 64; p++) {
      pixels[p * 3] = (p + i) & 255;
      pixels[p * 3 + 1] = (cls * 25) & 255;
      pixels[p * 3 + 2] = (p >> 4) & 255;
    }
    files[`class_${cls}/img_${String(i).padStart(5, "0")}.jpg`] = await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
  }
  await writeTree(root, files);
}

const pg = await startEmbeddedPostgres({ dir: path.join(work, "pg"), port: await freePort(), password: "bench" });
try {
  await pg.createDatabase("bench");
  const url = pg.url("bench");
  await runMigrations(url);
  const handle = connect(url, { max: 4 });
  const team = await seedTeam(handle.db, "Bench");
  const user = await seedUser(handle.db, { email: "bench@x.io", teams: [{ teamId: team.id, role: "member" }] });
  const ctx = await ctxFor(handle.db, user.id, team.id);
  const projectId = (await defaultProject(ctx)).id;

  const folder = path.join(work, "roots", "images");
  await generate(folder);
  const zipFile = await zipFolder(folder, path.join(tmpDir(), "bench.zip"));
  const zipBytes = await fileSize(zipFile);

  for (const kind of ["zip", "path"] as const) {
    let payload: Parameters<typeof runDatasetImport>[1] | undefined;
    const source = kind === "zip" ? { kind, file: zipFile } : { kind, path: folder };
    await startDatasetImport(ctx, { projectId, name: `bench-${kind}`, source }, async (p) => (payload = p));
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = performance.now();
    const result = await runDatasetImport(handle.db, payload!);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (result.status !== "ready") throw new Error(`import from ${kind} ended ${result.status}: ${result.error ?? ""}`);
    console.log(
      JSON.stringify({
        bench: "datasets.import",
        source: kind,
        images: IMAGES,
        ...(kind === "zip" && { zipMB: +(zipBytes / 1024 / 1024).toFixed(1) }),
        seconds: +seconds.toFixed(2),
        imagesPerSecond: Math.round(IMAGES / seconds),
        peakRssMB: Math.round(peak / 1024 / 1024),
        rssGrowthMB: Math.round((peak - baseline) / 1024 / 1024),
      }),
    );
  }
  await handle.close();
} finally {
  await pg.stop();
  await rm(work, { recursive: true, force: true });
}
