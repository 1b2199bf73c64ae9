/** The project's PyTorch-exported fixture models and their data. */
import fs from "fs";
import path from "path";
import { REPO } from "./circuit";
import { importOnnx } from "../../src/onnx/lower";
import { calibrate } from "../../src/quant/calibrate";
import { quantizeGraph } from "../../src/quant/quantize";
import type { QGraph } from "../../src/quant/qgraph";

export const FIXTURE_MODELS = ["mlp_digits", "cnn_digits", "cnn_pad_avg_digits", "logreg_cancer"] as const;
export type FixtureModel = (typeof FIXTURE_MODELS)[number];

export const onnxPath = (m: string) => path.join(REPO, "fixtures/models", `${m}.onnx`);
export const dataPath = (m: string, kind: "calibration" | "heldout" | "sample") =>
  path.join(REPO, "fixtures/data", `${m}.${kind}.json`);
const read = (f: string) => JSON.parse(fs.readFileSync(f, "utf8"));

export const calibrationSet = (m: string): number[][] => read(dataPath(m, "calibration"));
export const sampleSet = (m: string): number[][] => read(dataPath(m, "sample"));
export const heldout = (m: string): { inputs: number[][]; labels: number[] } => read(dataPath(m, "heldout"));

export function quantizedFixture(m: string): QGraph {
  const g = importOnnx(onnxPath(m));
  return quantizeGraph(g, calibrate(g, calibrationSet(m)));
}

/** Tests share the repo's dev powers of tau (CI sets this too). */
export function usePtauDir(): void {
  process.env.FLAVUM_PTAU_DIR ??= path.resolve(REPO, "../shared/ptau");
}
