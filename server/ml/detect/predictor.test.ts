import { describe, it, expect } from "vitest";
import { parseOnnxNames } from "./predictor";

describe("parseOnnxNames", () => {
  it("reads our JSON names and Ultralytics' Python-dict names in class-id order", () => {
    expect(parseOnnxNames('{"1":"dog","0":"cat"}')).toEqual(["cat", "dog"]);
    expect(parseOnnxNames("{0: 'person', 1: 'bicycle', 2: \"dog's bowl\", 3: 'traffic light'}")).toEqual(["person", "bicycle", "dog's bowl", "traffic light"]);
    expect(parseOnnxNames('["a","b"]')).toEqual(["a", "b"]);
  });

  it("gives null for missing, unreadable or gapped names", () => {
    expect(parseOnnxNames(undefined)).toBeNull();
    expect(parseOnnxNames("cats and dogs")).toBeNull();
    expect(parseOnnxNames("{0: 'a', 2: 'c'}")).toBeNull();
  });
});
