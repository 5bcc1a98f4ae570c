import type { RouteWorld } from "@/server/http/testing";

/** Every tRPC procedure with an input a member of team "Vision" may send (for the security and fuzz tests). */

export interface ProcedureCase {
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

export const PROCEDURES: Record<string, ProcedureCase> = {
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
  // The world holds no validation: any validation id is another team's or none, NOT_FOUND either way.
  "analysis.summary": owned((w) => ({ validationId: w.ids.weights })),
  "analysis.predictions": owned((w) => ({ validationId: w.ids.weights, outcome: "fp" })),
  "analysis.cell": owned((w) => ({ validationId: w.ids.weights, predicted: 0, actual: 1 })),
  "analysis.image": owned((w) => ({ validationId: w.ids.weights, predictionId: 1 })),
  "analysis.diff": owned((w) => ({ a: String(w.ids.experiment), b: `w${w.ids.weights}` })),
  "analysis.diffImages": owned((w) => ({ a: String(w.ids.experiment), b: `w${w.ids.weights}`, bucket: "regressions" })),
  "analysis.diffMetric": owned((w) => ({ a: String(w.ids.experiment), b: `w${w.ids.weights}`, seed: 1 })),
  "analysis.prCurves": owned((w) => ({ ids: [w.ids.experiment] })),
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
  "inference.devices": {},
  "inference.predict": owned((w) => ({ weightsId: w.ids.weights, images: [{ base64: "iVBORw0KGgo=" }] })),
  "inference.setPreprocessing": owned((w) => ({ weightsId: w.ids.weights, preprocessing: { channels: "BGR" } }), true),
  "weights.list": {},
  "weights.byId": owned(id((w) => w.ids.weights)),
  "weights.importFromPath": owned((w) => ({ projectId: w.ids.project, path: `${w.importRoot}/model.onnx` }), true),
  "weights.update": owned((w) => ({ id: w.ids.weights, description: "changed" }), true),
  "weights.delete": owned(id((w) => w.ids.weights), true),
  "weights.saveFromExperiment": owned((w) => ({ experimentId: w.ids.experiment }), true),
  "weights.validate": owned((w) => ({ weightsId: w.ids.weights }), true),
  "weights.export": owned((w) => ({ weightsId: w.ids.weights, format: "onnx" }), true),
  // A list filtered by team: another team sees an empty list, not NOT_FOUND.
  "weights.validations": { input: (w) => ({ weightsId: w.ids.weights }) },
  // The world holds no validation: any id is another team's or none, NOT_FOUND either way.
  "weights.validation": owned(id((w) => w.ids.weights)),
  "weights.validationImages": owned(id((w) => w.ids.weights)),
  "trainingConfigs.save": owned((w) => ({ projectId: w.ids.project, name: "cfg2", hyperparameters: { epochs: 1 } }), true),
  "trainingConfigs.delete": owned(id((w) => w.ids.config), true),
};
