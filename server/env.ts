import path from "node:path";
import { z } from "zod";

/**
 * The only place that reads process.env. Parsed once, on first use, so a bad value
 * fails loudly at start-up with the variable's name instead of deep inside a request.
 */
const booleanish = z
  .enum(["1", "0", "true", "false", "yes", "no"])
  .transform((v) => v === "1" || v === "true" || v === "yes");

const STREAM_PROTOCOLS = ["rtsp:", "rtsps:", "rtmp:", "rtmps:", "http:", "https:"];

const splitStreamUrls = (value: string) => value.split(/[\s,]+/).filter(Boolean);

function streamUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a URL";
  }
  return STREAM_PROTOCOLS.includes(parsed.protocol) ? null : `a stream URL is ${STREAM_PROTOCOLS.map((p) => p.slice(0, -1)).join(", ")}, not ${parsed.protocol.slice(0, -1)}`;
}

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  /** Public origin of the studio, used for same-origin checks and links. Defaults to http://localhost:PORT. */
  STUDIO_ORIGIN: z.string().url().optional(),
  STUDIO_DATA_DIR: z.string().default("./.studio"),
  /** Unset: the start command runs an embedded PostgreSQL under STUDIO_DATA_DIR/pg. */
  DATABASE_URL: z.string().url().optional(),
  /** Signs sessions and JWTs. Unset: generated once and kept in STUDIO_DATA_DIR/secret. */
  STUDIO_SECRET: z.string().min(32).optional(),
  STUDIO_ADMIN_EMAIL: z.string().email().default("admin@studio.local"),
  STUDIO_ADMIN_PASSWORD: z.string().min(8).optional(),
  STUDIO_REALTIME_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** The sidecar is reached through the web server's upgrade proxy, so it listens on loopback unless told otherwise. */
  STUDIO_REALTIME_HOST: z.string().default("127.0.0.1"),
  STUDIO_NEXT_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  STUDIO_WORKER_SLOTS: z.coerce.number().int().min(1).max(64).optional(),
  STUDIO_DEVICE: z.string().default("auto"),
  STUDIO_JWT_TTL_HOURS: z.coerce.number().positive().default(24),
  STUDIO_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  /** Server folders members may read files from (datasets, weights, pretrained files, video sources), `:`-separated. */
  STUDIO_IMPORT_ROOTS: z
    .string()
    .default("")
    .refine((value) => value.split(path.delimiter).filter(Boolean).every(path.isAbsolute), `each folder must be an absolute path (separate folders with "${path.delimiter}")`)
    .refine((value) => !value.split(path.delimiter).some((root) => root !== "" && path.resolve(root) === path.parse(path.resolve(root)).root), "the filesystem's root would let members read every file on the server; name the folders they may read"),
  /** Video stream URLs (RTSP, RTMP, HTTP) inference streams may read, separated by spaces or commas; members pick them from the devices list. */
  STUDIO_STREAM_URLS: z
    .string()
    .default("")
    .superRefine((value, issue) => {
      for (const url of splitStreamUrls(value)) {
        const problem = streamUrlProblem(url);
        if (problem) issue.addIssue({ code: "custom", message: `${url}: ${problem}` });
      }
    }),
  STUDIO_UPLOAD_MAX_MB: z.coerce.number().positive().default(2048),
  /** Largest JSON (and tRPC) request body; uploads have STUDIO_UPLOAD_MAX_MB. */
  STUDIO_JSON_MAX_KB: z.coerce.number().int().min(1).default(1024),
  STUDIO_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** A run that neither finishes a step nor answers its worker for this long (or 3× its slowest step) is killed and re-queued. */
  STUDIO_RUN_STALL_S: z.coerce.number().positive().default(300),
  STUDIO_EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  STUDIO_TRUST_PROXY: booleanish.default(false),
  /** External-command runs (a studio-administrator feature); off by default. */
  STUDIO_ALLOW_COMMANDS: booleanish.default(false),
  /** Where a worker runs as root, commands run as this user. */
  STUDIO_COMMAND_USER: z.string().min(1).default("nobody"),
  /** An export whose mAP50-95 (or top-1 accuracy) drops by more than this on re-validation is marked failed. */
  STUDIO_EXPORT_MAX_DROP: z.coerce.number().min(0).max(1).default(0.01),
});

export type Env = z.infer<typeof envSchema> & {
  dataDir: string;
  origin: string;
  realtimePort: number;
  nextPort: number;
  importRoots: string[];
  streamUrls: string[];
};

let cached: Env | undefined;

export function env(): Env {
  if (cached) return cached;
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  cached = {
    ...e,
    dataDir: path.resolve(e.STUDIO_DATA_DIR),
    origin: (e.STUDIO_ORIGIN ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
    realtimePort: e.STUDIO_REALTIME_PORT ?? e.PORT + 1,
    nextPort: e.STUDIO_NEXT_PORT ?? e.PORT,
    importRoots: e.STUDIO_IMPORT_ROOTS.split(path.delimiter).filter(Boolean).map((p) => path.resolve(p)),
    streamUrls: splitStreamUrls(e.STUDIO_STREAM_URLS),
  };
  return cached;
}

/** The only variables an external command inherits: no database URL, secret or credentials. */
const COMMAND_VARIABLES = ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH"];

export function commandEnvironment(): Record<string, string> {
  return Object.fromEntries(COMMAND_VARIABLES.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
}

/** For tests and the supervisor, which change variables before starting children. */
export function resetEnvCache(): void {
  cached = undefined;
}
