import { execFileSync } from "node:child_process";
import { mkdtemp, realpath, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Ctx } from "@/server/context";
import { ffmpegAvailable } from "./devices";
import { predictParams } from "./schemas";
import { resetEnvCache } from "@/server/env";
import { InferenceStream, resolveStreamSource, type StreamSource } from "./streams";

// No frame may come out of these sources, so no prediction runs and no context is needed.
const noContext = {} as Ctx;
let work: string;
let clip: string;

/** Resolves with the stream's end reason and how many frames it produced before. */
function endOf(source: StreamSource): Promise<{ reason: string; frames: number }> {
  const stream = new InferenceStream(noContext, source, 1, predictParams.parse({}));
  let frames = 0;
  stream.on("frame", () => frames++);
  return new Promise((resolve) => {
    stream.on("end", (reason: string) => resolve({ reason, frames }));
    stream.start();
  });
}

const playlistOf = (target: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${target}\n#EXT-X-ENDLIST\n`;

beforeAll(async () => {
  if (!(await ffmpegAvailable())) return;
  work = await mkdtemp(path.join(os.tmpdir(), "streams-"));
  clip = path.join(work, "elsewhere.mp4");
  execFileSync("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-pix_fmt", "yuv420p", clip]);
});

describe("what ffmpeg may read for a stream", () => {
  it("refuses a playlist named .mp4 under an import root that points at another file on the host", async ({ skip }) => {
    if (!work) return skip();
    const disguised = path.join(work, "camera.mp4");
    await writeFile(disguised, playlistOf(`file://${clip}`));
    const { reason, frames } = await endOf({ kind: "file", input: disguised });
    expect(frames).toBe(0);
    expect(reason).toMatch(/the source failed \(ffmpeg exit/);
  });

  it("takes a path under an import root only when it names a video file", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "stream-roots-"));
    await writeFile(path.join(root, "list.ffconcat"), `ffconcat version 1.0\nfile /etc/hostname\n`);
    process.env.STUDIO_IMPORT_ROOTS = root;
    resetEnvCache();
    await expect(resolveStreamSource(path.join(root, "list.ffconcat"))).rejects.toMatchObject({ message: "list.ffconcat is not a video file: a stream reads .mp4, .avi, .mkv, .mov, .webm, .mjpeg, .mjpg" });
    await writeFile(path.join(root, "clip.MP4"), "");
    expect(await resolveStreamSource(path.join(root, "clip.MP4"))).toEqual({ kind: "file", input: path.join(await realpath(root), "clip.MP4") });
  });
});
