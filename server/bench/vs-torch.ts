/**
 * Our training step beside PyTorch's on this machine, alternately, round by round (fair on a shared
 * host), for the bench:train models: reference-cnn (64², batch 32), resnet18 and mobilenet_v2 (96²,
 * batch 16), yolov8n at 320 and 640 (batch 8). PyTorch trains the same layer graph (the code view's
 * nn.Module, graph/code/pytorch.ts) with Adam, on 2 threads = this machine's cores, in a Python process
 * that stays up for the whole run; ours runs the loop's stepper (train/stepper.ts). One JSON line per
 * round with both images/s and their ratio, then a summary line with the medians per model.
 *   npm run bench:vs-torch -- [--models reference-cnn,resnet18,mobilenet_v2,yolov8n@320,yolov8n@640] [--backend ort] [--rounds 3] [--seconds 10] [--threads N]
 * --threads (default: every core) sets both sides' threads; on a busy host 1 thread each is the fairer
 * comparison (no thread of a pair waits for a descheduled partner, which slows PyTorch far more than ort).
 * YOLOv8 in PyTorch trains on a surrogate loss (BCE on the class logits, a square on the box bins):
 * no assigner, so PyTorch's figure is an upper bound and the ratio a lower one.
 * Needs /usr/bin/python3 with torch (Debian: apt-get install python3-torch); without it, says so and exits.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { initBackend, parseDevice, type BackendInfo } from "../ml/backend/index";
import { graphToPytorch } from "../ml/graph/code/pytorch";
import { zooGraph } from "../ml/zoo/index";
import { benchTrain } from "./train-detect";
import { benchStepper, CASES, NUM_CLASSES } from "./train";

const PYTHON = "/usr/bin/python3";
const DETECT_CLASSES = 80;

interface VsCase {
  name: string;
  task: "classify" | "detect";
  imgsz: number;
  batch: number;
}

const VS_CASES: VsCase[] = [
  ...CASES.map((c) => ({ name: c.model, task: "classify" as const, imgsz: c.imgsz, batch: c.batch })),
  { name: "yolov8n@320", task: "detect", imgsz: 320, batch: 8 },
  { name: "yolov8n@640", task: "detect", imgsz: 640, batch: 8 },
];

// Reads one JSON request per line, answers one JSON line: the model is built once per request.
const TORCH_WORKER = String.raw`
import json, sys, time, torch, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]))
print(json.dumps({"ready": torch.__version__}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    scope = {}
    exec(req["source"], scope)
    model = scope["Model"]()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(7)
    x = torch.rand(req["batch"], 3, req["imgsz"], req["imgsz"], generator=g)
    if req["task"] == "classify":
        y = torch.arange(req["batch"]) % req["classes"]
        loss_of = lambda out: F.cross_entropy(out, y)
    else:
        bins = 4 * 16
        loss_of = lambda out: F.binary_cross_entropy_with_logits(out[:, bins:], torch.zeros_like(out[:, bins:]), reduction="sum") / 10 + out[:, :bins].square().mean()
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_of(model(x))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
    step(); step()
    steps, start = 0, time.perf_counter()
    while steps < 3 or (steps < 200 and time.perf_counter() - start < req["seconds"]):
        step(); steps += 1
    ms = (time.perf_counter() - start) * 1000 / steps
    print(json.dumps({"imgs_per_sec": req["batch"] * 1000 / ms, "step_ms": ms, "steps": steps, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
`;

/** Why PyTorch cannot run here, or null. */
function torchMissing(): string | null {
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "pipe" });
    return null;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim().split("\n").at(-1);
    return `${PYTHON} has no torch (${stderr || (error as Error).message}); on Debian: apt-get install python3-torch`;
  }
}

class TorchWorker {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts PyTorch and waits until it has loaded, so that loading it does not slow our first round. */
  static async start(threads: number): Promise<TorchWorker> {
    const child = spawn(PYTHON, ["-c", TORCH_WORKER, String(threads)], { stdio: ["pipe", "pipe", "pipe"] });
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(`[torch] ${chunk}`));
    const worker = new TorchWorker(child);
    const ready = await worker.lines.next();
    if (ready.done) throw new Error("PyTorch did not start (see its [torch] lines above)");
    return worker;
  }

  async run(request: Record<string, unknown>): Promise<{ imgs_per_sec: number; step_ms: number; steps: number; torch: string; threads: number }> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error("the PyTorch process ended (see its [torch] lines above)");
    return JSON.parse(next.value);
  }

  stop(): void {
    this.child.stdin.end();
  }
}

/** The graph ours trains (bench/train.ts, bench/train-detect.ts build the same). */
function graphOf(c: VsCase) {
  return c.task === "detect" ? zooGraph("yolov8n", { imgsz: c.imgsz, numClasses: DETECT_CLASSES }) : zooGraph(c.name, { imgsz: c.imgsz, numClasses: NUM_CLASSES });
}

async function ours(c: VsCase, backend: BackendInfo, seconds: number): Promise<{ imgsPerSec: number; stepMs: number; description: string }> {
  if (c.task === "detect") {
    const timing = await benchTrain(c.imgsz, c.batch, seconds, backend, 1);
    return { imgsPerSec: (c.batch / timing.msPerStep) * 1000, stepMs: timing.msPerStep, description: backend.description };
  }
  const timing = await benchStepper({ model: c.name, imgsz: c.imgsz, batch: c.batch }, backend, 1, seconds);
  return { imgsPerSec: (c.batch / timing.msPerStep) * 1000, stepMs: timing.msPerStep, description: timing.backend.description };
}

export async function runVsTorch(print: (line: string) => void = (line) => console.log(line), argv: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: "string", default: VS_CASES.map((c) => c.name).join(",") },
      backend: { type: "string", default: "ort" },
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "10" },
      threads: { type: "string" },
    },
  });
  const missing = torchMissing();
  if (missing) {
    print(JSON.stringify({ skipped: "bench:vs-torch", reason: missing }));
    return;
  }
  const cases = values.models.split(",").map((name) => {
    const found = VS_CASES.find((c) => c.name === name);
    if (!found) throw new Error(`unknown model "${name}"; available: ${VS_CASES.map((c) => c.name).join(", ")}`);
    return found;
  });
  const threads = values.threads ? Math.max(1, Number(values.threads)) : os.availableParallelism();
  const backend = { ...(await initBackend(parseDevice(values.backend))), threads };
  const rounds = Math.max(1, Number(values.rounds));
  const seconds = Number(values.seconds);
  const torch = await TorchWorker.start(threads);
  const round2 = (v: number) => Math.round(v * 100) / 100;
  const median = (v: number[]) => {
    const sorted = [...v].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  try {
    for (const c of cases) {
      const source = graphToPytorch(graphOf(c), { inputShape: [c.imgsz, c.imgsz, 3], className: "Model" });
      const ratios: number[] = [];
      const ourRates: number[] = [];
      const torchRates: number[] = [];
      for (let round = 1; round <= rounds; round++) {
        const mine = await ours(c, backend, seconds);
        const theirs = await torch.run({ source, task: c.task, imgsz: c.imgsz, batch: c.batch, classes: NUM_CLASSES, seconds });
        const ratio = mine.imgsPerSec / theirs.imgs_per_sec;
        ratios.push(ratio);
        ourRates.push(mine.imgsPerSec);
        torchRates.push(theirs.imgs_per_sec);
        print(
          JSON.stringify({
            model: c.name,
            round,
            imgsz: c.imgsz,
            batch: c.batch,
            ours_imgs_per_sec: round2(mine.imgsPerSec),
            ours_step_ms: round2(mine.stepMs),
            pytorch_imgs_per_sec: round2(theirs.imgs_per_sec),
            pytorch_step_ms: round2(theirs.step_ms),
            ratio: round2(ratio),
            ours: mine.description,
            threads,
            pytorch: `torch ${theirs.torch}, ${theirs.threads} threads${c.task === "detect" ? ", surrogate loss (upper bound)" : ""}`,
            load: os.loadavg().map(round2),
          }),
        );
      }
      print(JSON.stringify({ model: c.name, summary: "median over rounds", rounds, ours_imgs_per_sec: round2(median(ourRates)), pytorch_imgs_per_sec: round2(median(torchRates)), ratio: round2(median(ratios)) }));
    }
  } finally {
    torch.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runVsTorch(undefined, process.argv.slice(2)).catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
