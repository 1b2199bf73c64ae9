/** Proven training (SGD commits) and proven merges (FedAvg) for Flavum's model repositories. */
export * from "./spec";
export * from "./data";
export * from "./executor";
export * from "./commitment";
export * from "./circuit";
export * from "./merge";
export * from "./evaluate";
export * from "./cost";
export * from "./trunk";
export { sigmoidTable, sigmoidInt, clampSigned } from "./sigmoid";
export type { SigmoidTable } from "./sigmoid";
export { softmaxTable, softmaxInt, softmaxFloat, expNegInt } from "./softmax";
export type { SoftmaxTable, SoftmaxResult } from "./softmax";
export * from "./statement";
