/**
 * A parser for the Python literals other tools write into metadata strings, such as Ultralytics'
 * ONNX `names` ("{0: 'person', 1: 'bicycle'}") and `imgsz` ("[640, 640]"). It understands only
 * literals (dicts, lists, tuples, strings, numbers, True/False/None), so nothing is ever evaluated.
 * Dicts become Maps, because their keys are often ints; tuples become arrays.
 */

export type PythonLiteral = null | boolean | number | string | PythonLiteral[] | Map<PythonLiteral, PythonLiteral>;

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", v: "\v" };
const CLOSER: Record<string, string> = { "[": "]", "(": ")", "{": "}" };

export function parsePythonLiteral(text: string): PythonLiteral {
  let pos = 0;

  const fail = (what: string): never => {
    throw new Error(`not a Python literal: ${what} at character ${pos} of ${JSON.stringify(text.slice(0, 80))}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };

  const parseString = (): string => {
    const quote = text[pos++];
    let out = "";
    while (pos < text.length && text[pos] !== quote) {
      if (text[pos] !== "\\") {
        out += text[pos++];
        continue;
      }
      const code = text[pos + 1];
      if (code === "x" || code === "u") {
        const digits = code === "x" ? 2 : 4;
        const hex = text.slice(pos + 2, pos + 2 + digits);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) fail("a bad escape");
        out += String.fromCharCode(parseInt(hex, 16));
        pos += 2 + digits;
      } else if (code !== undefined && code in ESCAPES) {
        out += ESCAPES[code];
        pos += 2;
      } else {
        fail("an unknown escape");
      }
    }
    if (pos >= text.length) fail("an unterminated string");
    pos++;
    return out;
  };

  const parseWord = (): PythonLiteral => {
    const match = /^(?:[+-]?(?:\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|nan)|True|False|None)/.exec(text.slice(pos));
    if (!match) return fail("an unexpected character");
    pos += match[0].length;
    if (match[0] === "True") return true;
    if (match[0] === "False") return false;
    if (match[0] === "None") return null;
    const word = match[0].replace(/_/g, "");
    if (word.endsWith("inf")) return word.startsWith("-") ? -Infinity : Infinity;
    if (word.endsWith("nan")) return NaN;
    return Number(word);
  };

  const parseValue = (): PythonLiteral => {
    skipSpace();
    const c = text[pos];
    if (c === "'" || c === '"') return parseString();
    if (c === "[" || c === "(") return parseSequence();
    if (c === "{") return parseDict();
    return parseWord();
  };

  /** Items up to the closer, with Python's optional trailing comma. */
  const parseItems = <T>(closer: string, item: () => T): T[] => {
    const items: T[] = [];
    for (;;) {
      skipSpace();
      if (text[pos] === closer) break;
      items.push(item());
      skipSpace();
      if (text[pos] === ",") pos++;
      else if (text[pos] !== closer) fail(`a missing "," or "${closer}"`);
    }
    pos++;
    return items;
  };

  const parseSequence = (): PythonLiteral[] => parseItems(CLOSER[text[pos++]], parseValue);

  const parseDict = (): Map<PythonLiteral, PythonLiteral> => {
    pos++;
    const entries = parseItems("}", (): [PythonLiteral, PythonLiteral] => {
      const key = parseValue();
      skipSpace();
      if (text[pos] !== ":") fail('a missing ":"');
      pos++;
      return [key, parseValue()];
    });
    return new Map(entries);
  };

  const value = parseValue();
  skipSpace();
  if (pos !== text.length) fail("trailing text");
  return value;
}

/**
 * Class names from a Python `names` value: Ultralytics writes a dict {0: 'person', …} (in ONNX
 * metadata as its literal, in checkpoints pickled); a list is accepted too.
 */
export function classNamesFrom(value: unknown): string[] | null {
  if (Array.isArray(value)) return value.every((v) => typeof v === "string") ? (value as string[]) : null;
  if (!(value instanceof Map)) return null;
  const names: string[] = [];
  for (const [key, name] of value) {
    if (typeof key !== "number" || !Number.isInteger(key) || key < 0 || key >= value.size || typeof name !== "string") return null;
    names[key] = name;
  }
  return names.length === value.size ? names : null;
}
