import { compileModel } from "./src/model/compile";
import { proveInference, verifyProofFile } from "./src/model/prove";
import { loadModel } from "./src/model/artifacts";
import { shutdown } from "./src/zk";
import fs from "fs";
async function main() {
  process.env.FLAVUM_PTAU_DIR = "/work/shared/ptau";
  const name = process.argv[2], weights = (process.argv[3] ?? "public") as any;
  const t0 = Date.now();
  const r = await compileModel({ onnx: `fixtures/models/${name}.onnx`, name: name + (weights === "private" ? "_priv" : ""), calibration: `fixtures/data/${name}.calibration.json`, weights, progress: (m) => console.error(m) });
  console.log(JSON.stringify({ constraints: r.manifest.circuit.constraints, fidelity: r.manifest.fidelity, ptau: r.manifest.ptau, ms: Date.now() - t0 }));
  const samples = JSON.parse(fs.readFileSync(`fixtures/data/${name}.sample.json`, "utf8"));
  const m = loadModel(r.manifest.name);
  const p = await proveInference(m, samples[0], (x) => console.error(x));
  console.log(JSON.stringify(p.file.claim), p.file.timings);
  console.log(await verifyProofFile(m, p.file));
  await shutdown();
}
main().catch((e) => { console.error(e); process.exit(1); });
