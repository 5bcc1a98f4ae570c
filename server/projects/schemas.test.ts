import { describe, expect, it } from "vitest";
import { projectName } from "./schemas";

describe("project names", () => {
  it("take any language's letters, as VisioFirm's Chinese project names", () => {
    for (const name of ["质检项目", "Ölprüfung 2", "дефекты_v2", "shapes-v2.1"]) expect(projectName.safeParse(name).success, name).toBe(true);
  });

  it("refuse what would escape runs/ or break a URL segment", () => {
    for (const name of ["..", ".", "a/b", "a\\b", "x\u0000y", "tab\there", "semi;colon", "q?s"]) expect(projectName.safeParse(name).success, JSON.stringify(name)).toBe(false);
  });
});
