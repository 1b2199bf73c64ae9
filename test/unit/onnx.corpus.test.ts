import { expect } from "chai";
import fs from "fs";
import path from "path";
import { FlavumError, UnsupportedOpError } from "../../src/errors";
import { importOnnx } from "../../src/onnx/lower";
import { CorpusEntry, scanCorpus } from "../../src/onnx/corpus";

const CORPUS = path.resolve(__dirname, "../../../shared/peer-onnx/ezkl-examples");

describe("onnx: peer corpus (EZKL examples)", function () {
  let entries: CorpusEntry[] = [];

  before(async function () {
    if (!fs.existsSync(CORPUS)) this.skip();
    entries = await scanCorpus(CORPUS);
  });

  it("scans every model without throwing, and imports the ones whose ops are supported", () => {
    expect(entries.length).to.be.greaterThan(80);
    expect(entries.filter((e) => e.status === "error").map((e) => `${e.name}: ${e.reason}`)).to.deep.equal([]);
    const imported = entries.filter((e) => e.status === "imported").map((e) => e.name);
    const mustImport = [
      "1l_conv", "1l_mlp", "1l_max_pool", "1l_batch_norm", "1l_pad", "1l_softmax", "4l_relu_conv_fc",
      // Data movement and reductions (issue 11).
      "1l_average", "1l_concat", "1l_conv_transpose", "1l_mean", "1l_slice", "1l_upsample", "ltsf", "max", "min",
    ];
    for (const m of mustImport) expect(imported).to.include(m);
    expect(imported.length).to.be.at.least(83);
    // What stays refused, and why: a model with no input, and NonZero (a data-dependent shape).
    expect(entries.filter((e) => e.status !== "imported").map((e) => e.name).sort()).to.deep.equal(["arange", "nanoGPT"]);
  });

  it("every imported model matches onnxruntime within 1e-4 (relative to the output magnitude)", () => {
    // self_attention applies Equal to floats under opset 10, which onnxruntime refuses to load.
    const failures = entries
      .filter((e) => e.status === "imported" && !e.matchesOrt && e.name !== "self_attention")
      .map((e) => `${e.name}: max |diff| ${e.ortMaxAbsDiff} ${e.compareError ?? ""}`);
    expect(failures, failures.join("\n")).to.deep.equal([]);
  });

  it("every model that does not import fails with UnsupportedOpError or a FlavumError naming the reason", () => {
    for (const e of entries.filter((x) => x.status !== "imported")) {
      let err: unknown;
      try {
        importOnnx(e.file);
      } catch (x) {
        err = x;
      }
      expect(err, e.name).to.be.instanceOf(FlavumError);
      if (err instanceof UnsupportedOpError) {
        expect((err as Error).message, e.name).to.contain(`unsupported ONNX op ${err.opType} (node "`);
        expect(e.reason).to.equal(err.opType);
      } else {
        expect((err as Error).message, e.name).to.match(/input|output|element type/);
      }
    }
  });
});
