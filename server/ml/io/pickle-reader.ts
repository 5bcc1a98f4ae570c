// The byte cursor of the unpickler (unpickler.ts): pickle's little-endian integers, lengths, lines and
// strings, each checked against the end of the data; errors name the opcode's offset.

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });
// Converting a huge integer to a bigint takes quadratic time; checkpoints never hold one this big.
const MAX_INT_BYTES = 1024;
export const MAX_INT_DIGITS = 2500;

export class PickleReader {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  /** Where the opcode being read starts, for error messages. */
  private opcodeAt = 0;

  constructor(input: Uint8Array) {
    // A plain Uint8Array view, so that bytes values are Uint8Arrays even when given a Buffer.
    this.data = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  fail(message: string): never {
    throw new Error(`pickle: ${message} (opcode at byte ${this.opcodeAt})`);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.data.length) this.fail("truncated data");
  }

  opcode(): number {
    this.opcodeAt = this.pos;
    return this.u8();
  }

  u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }

  u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2, true);
  }

  u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4, true);
  }

  i32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getInt32(this.pos - 4, true);
  }

  u64(): number {
    this.need(8);
    this.pos += 8;
    const value = this.view.getBigUint64(this.pos - 8, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail("a length beyond 2^53");
    return Number(value);
  }

  /** BINFLOAT: a big-endian double. */
  float64(): number {
    this.need(8);
    this.pos += 8;
    return this.view.getFloat64(this.pos - 8, false);
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    this.pos += n;
    return this.data.subarray(this.pos - n, this.pos);
  }

  /** Text up to the next newline, as latin-1. */
  line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail("truncated data (no end of line)");
    const text = latin1.decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  text(n: number): string {
    const raw = this.bytes(n);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail("invalid UTF-8 in a string");
    }
  }

  /** Python 2 str bytes, read as latin-1 text. */
  latin1(n: number): string {
    return latin1.decode(this.bytes(n));
  }

  /** Python's little-endian two's-complement LONG1/LONG4 bytes as a number or bigint. */
  long(raw: Uint8Array): number | bigint {
    if (raw.length === 0) return 0;
    if (raw.length > MAX_INT_BYTES) this.fail(`an integer of ${raw.length} bytes`);
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) value -= 1n << BigInt(8 * raw.length);
    return integer(value);
  }
}

export const integer = (value: bigint): number | bigint =>
  value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
