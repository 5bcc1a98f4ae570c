/**
 * Metrics from training log lines: the old metrics API's formats (seed 001: `Epoch [3/10] started`,
 * `Train Loss: 0.5234, Train Accuracy: 82.45%`, `Validation macro_F1: 0.7654`, …, which the engine
 * writes too) and Ultralytics' console tables, for runs whose trainer is an external command.
 * Values are kept as printed (accuracies in percent where the line says %), as seed 001 reports them.
 */
export type ParsedMetrics = Record<string, number>;

const EPOCH_STARTED = /^Epoch \[(\d+)\/(\d+)\] started/;
const TOP_K = /^Validation Top-k Accuracy:\s*\{(.*)\}/;
const BEST = /^New best model saved with ([\w-]+):\s*([-\d.eE+]+)%?/;
const PREFIXED = /^(Train|Validation)\s+(.*)$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Names as the old API reports them: `Accuracy` → acc, `macro_F1` → macro_f1, `mAP50-95` → mAP50_95. */
function metricName(raw: string): string {
  const name = raw.trim();
  const aliases: Record<string, string> = { Loss: "loss", Accuracy: "acc", P: "precision", R: "recall", "mAP50-95": "mAP50_95" };
  if (aliases[name]) return aliases[name];
  if (/^(macro|micro)_F1$/i.test(name)) return name.toLowerCase();
  return name.replace(/[^\w]+/g, "_");
}

function numberOf(text: string): number | null {
  const cleaned = text.trim().replace(/%$/, "");
  return NUMBER.test(cleaned) ? Number(cleaned) : null;
}

/** `Train Loss: 0.52, Train Accuracy: 82.45%` / `Validation P: 0.6, R: 0.5, mAP50: 0.4` */
function parsePrefixed(prefix: "Train" | "Validation", rest: string): ParsedMetrics | null {
  const out: ParsedMetrics = {};
  const short = prefix === "Train" ? "train" : "val";
  for (const part of rest.split(",")) {
    const colon = part.lastIndexOf(":");
    if (colon < 0) continue;
    const value = numberOf(part.slice(colon + 1));
    if (value === null) continue;
    const name = metricName(part.slice(0, colon).replace(new RegExp(`^\\s*${prefix}\\s+`), ""));
    // Losses and accuracies exist for both splits, so they carry the split; F1, P, R and mAP are validation-only.
    out[/loss|^acc$/.test(name) ? `${short}_${name}` : name] = value;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** One parser per log stream: Ultralytics prints a header line, then the values on the next line. */
export function createLogParser(): (line: string) => ParsedMetrics | null {
  let epochColumns: string[] | null = null;
  let validationColumns: string[] | null = null;

  return (rawLine: string) => {
    const line = rawLine.trim();
    if (!line) return null;

    const started = EPOCH_STARTED.exec(line);
    if (started) return { epoch: Number(started[1]), total_epochs: Number(started[2]) };
    const topK = TOP_K.exec(line);
    if (topK) {
      const out: ParsedMetrics = {};
      for (const match of topK[1].matchAll(/'top(\d+)':\s*([-\d.eE+]+)/g)) out[`top${match[1]}_acc`] = Number(match[2]);
      return Object.keys(out).length > 0 ? out : null;
    }
    const best = BEST.exec(line);
    if (best) return { [best[1] === "Accuracy" ? "best_acc" : `best_${metricName(best[1])}`]: Number(best[2]) };
    const prefixed = PREFIXED.exec(line);
    if (prefixed) return parsePrefixed(prefixed[1] as "Train" | "Validation", prefixed[2]);

    // Ultralytics: "Epoch GPU_mem box_loss cls_loss dfl_loss Instances Size" / "classes top1_acc top5_acc" / "Class Images Instances Box(P R mAP50 mAP50-95)".
    const beforeBar = line.split(":")[0];
    const words = beforeBar.split(/\s+/);
    if (words[0] === "Epoch" && words.length > 1) {
      epochColumns = words;
      return null;
    }
    if (words[0] === "Class" && /Box\(P|Mask\(P/.test(beforeBar)) {
      validationColumns = ["class", "images", "instances", "precision", "recall", "mAP50", "mAP50_95"];
      return null;
    }
    if (words[0] === "classes" && words.length > 1) {
      validationColumns = words;
      return null;
    }
    const epochMatch = /^(\d+)\/(\d+)$/.exec(words[0]);
    if (epochMatch && epochColumns) {
      const out: ParsedMetrics = { epoch: Number(epochMatch[1]), total_epochs: Number(epochMatch[2]) };
      epochColumns.forEach((column, i) => {
        const value = i > 0 ? numberOf(words[i] ?? "") : null;
        if (value !== null && /loss/.test(column)) out[`train_${column}`] = value;
      });
      return out;
    }
    if (words[0] === "all" && validationColumns) {
      const out: ParsedMetrics = {};
      validationColumns.forEach((column, i) => {
        const value = i > 0 ? numberOf(words[i] ?? "") : null;
        if (value !== null && !["images", "instances"].includes(column)) out[column] = value;
      });
      return Object.keys(out).length > 0 ? out : null;
    }
    return null;
  };
}

/** Parses one line on its own (no table context); for engine log lines, which never span lines. */
export function parseLogLine(line: string): ParsedMetrics | null {
  return createLogParser()(line);
}
