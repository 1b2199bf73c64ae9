/** What settles a proven batch on a ledger, from its store row: the same bytes for every chain it goes to. */
import { getBytes } from "ethers";
import { solidityCalldata } from "../zk";
import type { BatchSubmission } from "../chain/ledger";
import type { BatchRow } from "./store";

export function batchSubmission(b: BatchRow): BatchSubmission {
  const { proof, publicSignals } = b.proof as { proof: Parameters<typeof solidityCalldata>[0]; publicSignals: string[] };
  const cd = solidityCalldata(proof, publicSignals);
  return {
    modelId: b.modelId, batchSize: b.batchSize, count: b.count, newRoot: b.newRoot, batchRoot: b.batchRoot,
    proof: { a: cd.a, b: cd.b, c: cd.c }, trace: getBytes(b.trace), h: BigInt(publicSignals[5]),
  };
}
