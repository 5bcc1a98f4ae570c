import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { kernelsUsedInTraining, kernelsMissingOn } from "../ml/backend/gradient-coverage";
import { initBackend } from "../ml/backend";
console.log((await kernelsUsedInTraining()).join(" "));
console.log("missing before:", await kernelsMissingOn("wasm"));
await initBackend("wasm");
console.log("missing after:", await kernelsMissingOn("wasm"));
