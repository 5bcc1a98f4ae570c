import { afterEach, describe, expect, it } from "vitest";
import { env, resetEnvCache } from "./env";

/** env() parses process.env: each case sets one variable and reads the result or the start-up error. */
function withVariable(name: string, value: string): () => ReturnType<typeof env> {
  process.env[name] = value;
  resetEnvCache();
  return env;
}

const saved = { ...process.env };
afterEach(() => {
  for (const name of ["STUDIO_IMPORT_ROOTS", "STUDIO_STREAM_URLS"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  resetEnvCache();
});

describe("STUDIO_IMPORT_ROOTS", () => {
  it("takes absolute folders separated by ':'", () => {
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/data:/mnt/models/")().importRoots).toEqual(["/srv/data", "/mnt/models"]);
  });

  it("refuses relative folders and the filesystem's root at start-up, naming the variable", () => {
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/data:models")).toThrow(/STUDIO_IMPORT_ROOTS: each folder must be an absolute path/);
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/data:/")).toThrow(/STUDIO_IMPORT_ROOTS: the filesystem's root would let members read every file/);
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/../")).toThrow(/STUDIO_IMPORT_ROOTS: the filesystem's root/);
  });
});

describe("STUDIO_STREAM_URLS", () => {
  it("lists RTSP, RTMP and HTTP URLs separated by spaces or commas", () => {
    expect(withVariable("STUDIO_STREAM_URLS", "rtsp://cam1.local:554/live, http://10.0.0.5/video.mjpg\nrtmp://relay/app")().streamUrls).toEqual([
      "rtsp://cam1.local:554/live",
      "http://10.0.0.5/video.mjpg",
      "rtmp://relay/app",
    ]);
    expect(withVariable("STUDIO_STREAM_URLS", "")().streamUrls).toEqual([]);
  });

  it("refuses what is not a stream URL at start-up, naming it", () => {
    expect(withVariable("STUDIO_STREAM_URLS", "rtsp://ok/live file:///etc/passwd")).toThrow(/STUDIO_STREAM_URLS: file:\/\/\/etc\/passwd: a stream URL is rtsp, rtsps, rtmp, rtmps, http, https, not file/);
    expect(withVariable("STUDIO_STREAM_URLS", "camera-one")).toThrow(/STUDIO_STREAM_URLS: camera-one: not a URL/);
  });
});
