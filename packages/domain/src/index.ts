/** The domain module: workflow definitions, step types, validation and the Y.Doc mapping. No I/O. */
export * from "./api-inputs.js";
export * from "./credentials.js";
export * from "./definition.js";
export * from "./diff.js";
export * from "./graph.js";
export * from "./ids.js";
export * from "./import/index.js";
export * from "./protocol.js";
export * from "./statuses.js";
export * from "./step-types.js";
export * from "./validation.js";
export * from "./ydoc.js";
export * from "./ytext.js";
