export * from "./auth";
export * from "./projects";
export * from "./system";
export * from "./datasets";
export * from "./experiments";
export * from "./weights";
export * from "./validations";
export * from "./active-models";
