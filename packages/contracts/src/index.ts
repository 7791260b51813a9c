export * from "./status.js";
export * from "./api.js";
export * from "./events.js";
export * from "./verify.js";
