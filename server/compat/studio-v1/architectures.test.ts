import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createApiKey } from "@/server/auth/api-keys";
import { routeContext } from "@/server/compat/shared/testing";
import { zooGraph } from "@/server/ml/zoo/index";
import { YOLOV8_YAML } from "@/server/ml/zoo/yolov8-yaml";
import { createV1Architecture, deleteV1Architecture, listV1Architectures, updateV1Architecture } from "./architectures";

let tdb: TestDb;
let key: string;

beforeAll(async () => {
  tdb = await createTestDb();
  const { member } = await seedMemberAndOutsider(tdb.db);
  key = (await createApiKey(member, { name: "v1" })).key;
});
afterAll(async () => {
  await tdb?.close();
});

const v1 = (method: string, path: string, body?: unknown) =>
  new Request(`http://studio.test/api/v1/models/architectures${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const deps = () => ({ db: tdb.db });
const list = async () => (await (await listV1Architectures(v1("GET", ""), deps())).json()) as { id: number; name: string; nodes: { id: string; data?: unknown }[]; params: number }[];

/** §2.4.A's example, byte for byte: no Input node, and "n2" is not in the list. */
const DOCUMENT_EXAMPLE = [{ id: "n1", type: "Conv2d", data: { in: 3, out: 64, k: 3, s: 1 }, inputs: [], outputs: ["n2"] }];

const graph = () => zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 }) as unknown as { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };

describe("seed 002 §2.4.A /api/v1/models/architectures", () => {
  it("accepts the document's own example with warnings, not an error", async () => {
    const res = await createV1Architecture(v1("POST", "", { name: "document example", nodes: DOCUMENT_EXAMPLE }), deps());
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.warnings).toEqual([
      'node "n1": outputs names "n2", which is not in the nodes list; ignored',
      'the graph has no Input node: added "input" feeding "n1"',
    ]);
    expect(body.nodes).toEqual([
      { id: "input", type: "Input", inputs: [], outputs: ["n1"] },
      { id: "n1", type: "Conv2d", data: { in: 3, out: 64, k: 3, s: 1 }, inputs: ["input"], outputs: [] },
    ]);
    // 3·64·3·3 weights + 64 biases.
    expect(body.params).toBe(1792);
  });

  it("takes edges from the nodes' inputs/outputs arrays when edges are left out", async () => {
    const nodes = [
      { id: "in", type: "Input", outputs: ["c"] },
      { id: "c", type: "Conv2d", data: { in: 3, out: 8, k: 3, s: 2, p: 1 }, outputs: ["gap"] },
      { id: "gap", type: "GlobalAvgPool", inputs: ["c"], outputs: ["fc"] },
      { id: "fc", type: "Linear", data: { in: 8, out: 2 } },
    ];
    const res = await createV1Architecture(v1("POST", "", { name: "arrays only", nodes }), deps());
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.warnings).toEqual([]);
    expect(body.edges.map((e: { source: string; target: string }) => `${e.source}>${e.target}`)).toEqual(["in>c", "c>gap", "gap>fc"]);
    expect(body.output_shapes).toEqual([[2]]);
  });

  it("PUT saves with 204; a PUT with only a name keeps the graph", async () => {
    const created = await (await createV1Architecture(v1("POST", "", { name: "to save", ...graph() }), deps())).json();
    const ctx = routeContext({ id: String(created.id) }, deps());
    const saved = await updateV1Architecture(v1("PUT", `/${created.id}`, { name: "saved", nodes: graph().nodes.slice(0, 3), edges: graph().edges.slice(0, 2) }), ctx);
    expect(saved.status).toBe(204);
    expect(await saved.text()).toBe("");
    const afterSave = (await list()).find((a) => a.id === created.id)!;
    expect(afterSave.nodes.map((n) => n.id)).toEqual(["input", "conv1", "pool1"]);

    expect((await updateV1Architecture(v1("PUT", `/${created.id}`, { name: "renamed only" }), ctx)).status).toBe(204);
    const renamed = (await list()).find((a) => a.id === created.id)!;
    expect([renamed.name, renamed.nodes]).toEqual(["renamed only", afterSave.nodes]);

    const bad = await updateV1Architecture(v1("PUT", `/${created.id}`, { nodes: [{ id: "in", type: "Input" }, { id: "fc", type: "Linear", data: { out: 3 }, inputs: ["in"] }] }), ctx);
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/node "fc"/);
    expect((await deleteV1Architecture(v1("DELETE", `/${created.id}`), ctx)).status).toBe(204);
    expect((await deleteV1Architecture(v1("DELETE", `/${created.id}`), ctx)).status).toBe(404);
  });

  it("POST {name, yaml} → 201 with the graph and its summary; a bad row is a 400 naming it", async () => {
    const res = await createV1Architecture(v1("POST", "", { name: "yolov8n from yaml", yaml: YOLOV8_YAML, scale: "n" }), deps());
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ task: "detect", warnings: [] });
    expect(body.nodes.map((n: { type: string }) => n.type).slice(0, 4)).toEqual(["Input", "ConvBlock", "ConvBlock", "C2f"]);
    // PyTorch's parameters() less Detect's 16 frozen DFL weights, which the studio decodes outside the graph.
    expect(body.summary.totalTrainableParams).toBe(3_157_200 - 16);

    const bad = await createV1Architecture(v1("POST", "", { name: "bad yaml", yaml: YOLOV8_YAML.replace("[[15, 18, 21], 1, Detect", "[[15, 18, 23], 1, Detect") }), deps());
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/row 22 \(head\[12\]\) Detect: 'from' index 23 does not name an earlier row/);
  });

  it("answers 401 without credentials", async () => {
    expect((await listV1Architectures(new Request("http://studio.test/api/v1/models/architectures"), deps())).status).toBe(401);
  });
});
