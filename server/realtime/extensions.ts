import { inferenceStreamRoute } from "@/server/compat/studio-v1/inference-ws";
import { systemStatsRoute } from "@/server/compat/studio-v1/system-ws";
import { trainingWsRoute } from "@/server/compat/studio-v1/training-ws";
import { experimentTopic } from "@/server/experiments/topic";
import { datasetTopic } from "@/server/datasets/topic";
import { registerTopicKind } from "./topics";
import { registerWsRoute } from "./ws-routes";

/**
 * What the realtime sidecar serves beyond socket.io's `system` and `team:<id>` topics: a new
 * WebSocket endpoint or topic kind adds one line here.
 */
registerWsRoute("/ws/system", systemStatsRoute);
registerWsRoute("/ws/training/{id}", trainingWsRoute);
registerWsRoute("/ws/inference/stream", inferenceStreamRoute);
registerTopicKind("experiment", experimentTopic);

registerTopicKind("dataset", datasetTopic);
