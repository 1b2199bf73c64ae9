import { task } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { idArg } from "./args";
import { recordedRollup } from "../src/chain/evmRollup";
import { auditModel, formatAudit } from "../src/audit/modelAudit";
import { auditProvenance, formatProvenance, isPublished } from "../src/audit/provenance";

task("model:audit", "Rebuild a registered model's circuit, keys and verifier from its public material and compare with the chain")
  .addParam("id", "Model id")
  .addOptionalParam("name", "Local model name (default: from the registered URI flavum://models/<name>)")
  .addOptionalParam("dir", "Folder holding <name>/ and <name>.batch-<B>/ (default build/models)")
  .addOptionalParam("registry", "ModelRegistry address (default: the one in deployments/<network>.json)")
  .addOptionalParam("ptau", "Powers-of-tau file for the zkey check")
  .addFlag("skipZkeyVerify", "Do not recompile the circuit and verify the zkey against it (reported as a failed check)")
  .addFlag("all", "List every check, not only the differing ones")
  .addFlag("json", "Print JSON ({ ok, checks: [{ name, expected, actual, ok }] })")
  .setAction(
    flavumAction(
      async (a: { id: string; name?: string; dir?: string; registry?: string; ptau?: string; skipZkeyVerify: boolean; all: boolean; json: boolean }, hre) => {
        const registry = a.registry ?? recordedRollup(hre.network.name).registry;
        const modelId = idArg("id", a.id, "model");
        // A published repository commit: its weights' history, every step re-verified on chain.
        if (await isPublished(hre, registry, modelId)) {
          const p = await auditProvenance(hre, registry, modelId);
          console.log(a.json ? JSON.stringify(p, null, 2) : formatProvenance(p));
          if (!p.ok) process.exitCode = 1;
          return;
        }
        const report = await auditModel(hre, registry, idArg("id", a.id, "model"), {
          name: a.name, modelsDir: a.dir && userPath(a.dir), ptau: a.ptau && userPath(a.ptau), skipZkeyVerify: a.skipZkeyVerify, progress,
        });
        console.log(a.json ? JSON.stringify(report, null, 2) : formatAudit(report, a.all));
        if (!report.ok) process.exitCode = 1;
      },
      { persistent: true },
    ),
  );
