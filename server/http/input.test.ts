import { describe, expect, it } from "vitest";
import { Invalid, NotFound, TooLarge } from "@/server/errors";
import { checkUrl, containsNul, INT32_MAX, nameText, parsePathId, readBodyText, recordId } from "./input";

describe("parsePathId", () => {
  it("takes strict decimal ids 1..2^31-1", () => {
    expect(parsePathId("1", "Dataset")).toBe(1);
    expect(parsePathId(String(INT32_MAX), "Dataset")).toBe(INT32_MAX);
  });

  it.each(["0", "0x1", "1e3", " 1", "01", "-1", "1.0", "2147483648", "99999999999999999999", "", "1\u0000"])("names nothing for %j", (raw) => {
    expect(() => parsePathId(raw, "Dataset")).toThrow(NotFound);
  });

  it("says what was not found, in the dialect's words when given", () => {
    expect(() => parsePathId("x", "Dataset")).toThrow("Dataset x not found");
    expect(() => parsePathId("x", "Task", "任务不存在: x")).toThrow("任务不存在: x");
  });
});

describe("schemas", () => {
  it("ids fit an int4 column", () => {
    expect(recordId.safeParse(INT32_MAX).success).toBe(true);
    expect(recordId.safeParse(INT32_MAX + 1).success).toBe(false);
    expect(recordId.safeParse(0).success).toBe(false);
  });

  it("names refuse control characters", () => {
    expect(nameText(10).safeParse("ok name").success).toBe(true);
    expect(nameText(10).safeParse("a\u0000b").success).toBe(false);
    expect(nameText(10).safeParse("a\nb").success).toBe(false);
  });
});

describe("containsNul", () => {
  it("finds NUL in nested strings and keys", () => {
    expect(containsNul({ a: [1, { b: "x\u0000" }] })).toBe(true);
    expect(containsNul({ ["k\u0000"]: 1 })).toBe(true);
    expect(containsNul({ a: ["plain", 2, null] })).toBe(false);
  });
});

describe("checkUrl", () => {
  it("refuses encoded and raw control characters", () => {
    expect(() => checkUrl("http://s/training/tasks/%00")).toThrow(Invalid);
    expect(() => checkUrl("http://s/api/v1/datasets?q=a%0Ab")).toThrow(Invalid);
    expect(() => checkUrl("http://s/api/v1/datasets?q=%2500")).not.toThrow();
  });
});

describe("readBodyText", () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) => new Request("http://s/x", { method: "POST", body, headers, duplex: "half" } as RequestInit);

  it("reads a body within the limit", async () => {
    expect(await readBodyText(post("hello"), 5)).toBe("hello");
  });

  it("refuses a declared length over the limit without reading", async () => {
    await expect(readBodyText(post("x".repeat(10), { "content-length": "10" }), 5)).rejects.toThrow(TooLarge);
  });

  it("stops a streamed body at the limit, whatever it declares", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    await expect(readBodyText(post(stream), 4096)).rejects.toThrow(TooLarge);
    expect(pulled).toBeLessThan(10);
  });
});
