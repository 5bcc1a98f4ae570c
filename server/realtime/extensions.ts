import { systemStatsRoute } from "./system-route";
import { registerWsRoute } from "./ws-routes";

/**
 * What the realtime sidecar serves beyond socket.io's `system` and `team:<id>` topics. Later issues
 * add one line each: `registerWsRoute("/ws/training/{id}", …)`, `registerTopicKind("experiment", …)`.
 */
registerWsRoute("/ws/system", systemStatsRoute);
