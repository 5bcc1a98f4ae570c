import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouteWorld, ORIGIN, type RouteWorld } from "@/server/http/testing";
import { createCallerFactory, createTrpcContext } from "./init";
import { appRouter } from "./root";

/**
 * Every tRPC procedure, called with the context the route builds from a request's credentials:
 * none or revoked → UNAUTHORIZED, another team's resource → NOT_FOUND, a viewer's write →
 * FORBIDDEN, studio administration by a non-administrator → FORBIDDEN. A procedure added
 * without a row here fails the test.
 */

interface ProcedureCase {
  input?(w: RouteWorld): unknown;
  /** Names the team's resource: the outsider gets NOT_FOUND. */
  owned?: boolean;
  /** Needs the member role: a viewer gets FORBIDDEN. */
  write?: boolean;
  /** Studio administration: a team member who is no studio administrator gets FORBIDDEN. */
  studioAdmin?: boolean;
}

const id = (pick: (w: RouteWorld) => number) => (w: RouteWorld) => ({ id: pick(w) });
const experiment = id((w) => w.ids.experiment);
const dataset = id((w) => w.ids.dataset);
const owned = (input: (w: RouteWorld) => unknown, write = false): ProcedureCase => ({ input, owned: true, write });

const PROCEDURES: Record<string, ProcedureCase> = {
  "account.me": {},
  "account.teams": {},
  "account.apiKeys": {},
  "account.createApiKey": { input: () => ({ name: "mine" }) },
  "account.revokeApiKey": owned(id((w) => w.ids.apiKey)),
  "account.changePassword": { input: () => ({ currentPassword: "not-the-password", newPassword: "new-password-1" }) },
  "admin.users": { studioAdmin: true },
  "admin.teams": { studioAdmin: true },
  "admin.createUser": { input: () => ({ email: "new@x.io", password: "password123" }), studioAdmin: true },
  "admin.createTeam": { input: () => ({ name: "New team" }), studioAdmin: true },
  "admin.setMembership": { input: (w) => ({ userId: w.viewer.caller.userId, teamId: w.viewer.caller.teamId, role: "owner" }), studioAdmin: true },
  "admin.removeMembership": { input: (w) => ({ userId: w.viewer.caller.userId, teamId: w.viewer.caller.teamId }), studioAdmin: true },
  "admin.resetPassword": { input: (w) => ({ userId: w.viewer.caller.userId, newPassword: "new-password-1" }), studioAdmin: true },
  "admin.setDisabled": { input: (w) => ({ userId: w.viewer.caller.userId, disabled: true }), studioAdmin: true },
  "architectures.list": {},
  "architectures.byId": owned(id((w) => w.ids.architecture)),
  "architectures.analyze": { input: () => ({ graph: { nodes: [{ id: "in", type: "input" }], edges: [] } }) },
  "architectures.create": owned((w) => ({ projectId: w.ids.project, name: "net2", graph: { nodes: [{ id: "in", type: "input" }], edges: [] } }), true),
  "architectures.update": owned((w) => ({ id: w.ids.architecture, description: "changed" }), true),
  "architectures.delete": owned(id((w) => w.ids.architecture), true),
  "augmentations.ops": {},
  "augmentations.list": {},
  "augmentations.byId": owned(id((w) => w.ids.augmentation)),
  "augmentations.create": owned((w) => ({ projectId: w.ids.project, name: "aug2", pipeline: [] }), true),
  "augmentations.update": owned((w) => ({ id: w.ids.augmentation, description: "changed" }), true),
  "augmentations.delete": owned(id((w) => w.ids.augmentation), true),
  "augmentations.preview": owned((w) => ({ datasetId: w.ids.dataset, pipeline: [] })),
  "datasets.list": {},
  "datasets.byId": owned(dataset),
  "datasets.importState": owned(dataset),
  "datasets.failures": {},
  "datasets.dismissFailure": { input: () => ({ id: 1 }), write: true },
  "datasets.importRoots": {},
  "datasets.importFromPath": owned((w) => ({ projectId: w.ids.project, name: "imported", path: `${w.importRoot}/train` }), true),
  "datasets.update": owned((w) => ({ id: w.ids.dataset, description: "changed" }), true),
  "datasets.delete": owned(dataset, true),
  "datasets.preview": owned(dataset),
  "datasets.resplit": owned((w) => ({ id: w.ids.dataset, source: "folders" }), true),
  "experiments.list": {},
  "experiments.byId": owned(experiment),
  "experiments.metrics": owned(experiment),
  "experiments.logs": owned(experiment),
  "experiments.plots": owned(experiment),
  "experiments.compare": owned((w) => ({ ids: [w.ids.experiment, w.ids.experiment] })),
  "experiments.formOptions": {},
  "experiments.create": owned((w) => ({ projectId: w.ids.project, name: "exp2", datasetId: w.ids.dataset, model: "reference-cnn" }), true),
  "experiments.start": owned(experiment, true),
  "experiments.stop": owned(experiment, true),
  "experiments.pause": owned(experiment, true),
  "experiments.resume": owned(experiment, true),
  "experiments.clone": owned(experiment, true),
  "experiments.rename": owned((w) => ({ id: w.ids.experiment, name: "renamed" }), true),
  "experiments.delete": owned(experiment, true),
  "projects.list": {},
  "projects.byId": owned(id((w) => w.ids.project)),
  "projects.create": { input: () => ({ name: "new-project" }), write: true },
  "projects.rename": owned((w) => ({ id: w.ids.project, name: "renamed" }), true),
  "projects.delete": owned(id((w) => w.ids.project), true),
  "projects.setDefaultDataset": owned((w) => ({ projectId: w.ids.project, datasetId: w.ids.dataset }), true),
  "system.health": {},
  "system.workers": {},
  "system.devices": {},
  "system.logs": {},
  "trainingConfigs.list": {},
  "trainingConfigs.save": owned((w) => ({ projectId: w.ids.project, name: "cfg2", hyperparameters: { epochs: 1 } }), true),
  "trainingConfigs.delete": owned(id((w) => w.ids.config), true),
};

let w: RouteWorld;
const createCaller = createCallerFactory(appRouter);

beforeAll(async () => {
  w = await createRouteWorld();
}, 120_000);

afterAll(async () => {
  await w?.close();
});

type Procedure = (input: unknown) => Promise<unknown>;

/** The error code a procedure answers for a caller holding `credential` (none: no header); "OK" when it succeeds. */
async function codeFor(name: string, credential?: string): Promise<string> {
  const headers: Record<string, string> = { "content-type": "application/json", origin: ORIGIN };
  if (credential) headers.authorization = `Bearer ${credential}`;
  const ctx = await createTrpcContext(new Request(`${ORIGIN}/api/trpc/${name}`, { method: "POST", headers }), w.tdb.db);
  const caller = createCaller(ctx) as unknown as Record<string, Record<string, Procedure>>;
  const [group, procedure] = name.split(".");
  try {
    await caller[group][procedure](PROCEDURES[name].input?.(w));
    return "OK";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

describe("the table covers every procedure", () => {
  it("has a row for each procedure of the router, and none for procedures that are gone", () => {
    expect(Object.keys(PROCEDURES).sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
  });
});

describe.each(Object.entries(PROCEDURES))("%s", (name, c) => {
  it("refuses a caller without credentials, with a revoked API key or a revoked JWT", async () => {
    expect(await codeFor(name)).toBe("UNAUTHORIZED");
    expect(await codeFor(name, w.keys.revoked)).toBe("UNAUTHORIZED");
    expect(await codeFor(name, w.jwts.revoked)).toBe("UNAUTHORIZED");
  });

  it.runIf(c.owned)("answers another team's resource as missing", async () => {
    expect(await codeFor(name, w.keys.other)).toBe("NOT_FOUND");
  });

  it.runIf(c.write)("refuses a viewer", async () => {
    expect(await codeFor(name, w.keys.viewer)).toBe("FORBIDDEN");
  });

  it.runIf(c.studioAdmin)("refuses a team member who is no studio administrator", async () => {
    expect(await codeFor(name, w.keys.member)).toBe("FORBIDDEN");
  });
});
