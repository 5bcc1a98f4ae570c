import { describe, expect, it } from "vitest";
import { alignSeries, formatValue, smooth } from "./line-chart";

describe("line chart data", () => {
  it("puts series with different x values on one sorted axis, null where a series has no point", () => {
    const data = alignSeries(
      [
        { name: "loss", points: [{ x: 2, y: 0.5 }, { x: 1, y: 1 }] },
        { name: "step loss", points: [{ x: 0.5, y: 2 }, { x: 1.5, y: Number.NaN }] },
      ],
      { smoothing: 0, logY: false },
    );
    expect(data).toEqual([
      [0.5, 1, 1.5, 2],
      [null, 1, null, 0.5],
      [2, null, null, null],
    ]);
  });

  it("drops values a log axis cannot show", () => {
    expect(alignSeries([{ name: "a", points: [{ x: 1, y: 0 }, { x: 2, y: 10 }] }], { smoothing: 0, logY: true })).toEqual([[1, 2], [null, 10]]);
  });

  it("smooths as TensorBoard does: debiased, so a constant stays constant", () => {
    expect(smooth([1, 1, 1].map((y, x) => ({ x, y })), 0.9).map((p) => p.y)).toEqual([1, 1, 1].map(() => expect.closeTo(1, 12)));
    const [, second] = smooth([{ x: 0, y: 0 }, { x: 1, y: 10 }], 0.5);
    // EMA 0.5·0 + 0.5·10 = 5, debiased by 1 − 0.5² = 0.75.
    expect(second.y).toBeCloseTo(5 / 0.75, 10);
  });

  it("writes ticks short: integers whole, other numbers to three digits", () => {
    expect([formatValue(3), formatValue(0.123456), formatValue(123456), formatValue(0.00001234), formatValue(null)]).toEqual(["3", "0.123", "123456", "1.23e-5", "—"]);
  });
});
