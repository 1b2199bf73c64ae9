/**
 * The chains one rollup settles on (`--chains a,b`): each chain's runtime and rollup ledger, checked
 * to be one domain before anything is sent. The first chain listed is the primary: the sequencer
 * settles there first and its order of batches is the one every other chain follows
 * (src/rollup/chainMirror.ts).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { FlavumError } from "../errors";
import type { Progress } from "../zk/log";
import { EvmRollupLedger, recordedRollup } from "./evmRollup";
import { runtimeFor } from "./networks";

export interface ChainMember {
  network: string;
  hre: HardhatRuntimeEnvironment;
  ledger: EvmRollupLedger;
  chainId: bigint;
  rollup: string;
  domain: bigint;
  tag: number;
}

const hex = (v: bigint) => "0x" + v.toString(16);

/** Connects to the rollup recorded on each network and refuses a set that is not one domain with distinct chains and tags. */
export async function connectChains(hre: HardhatRuntimeEnvironment, networks: string[], signerIndex = 0, progress?: Progress): Promise<ChainMember[]> {
  const members: ChainMember[] = [];
  for (const network of networks) {
    const view = await runtimeFor(hre, network);
    let ledger: EvmRollupLedger;
    try {
      ledger = await EvmRollupLedger.connect(view, recordedRollup(network), signerIndex, progress);
    } catch (e) {
      if (e instanceof FlavumError) throw e;
      throw new FlavumError(`chain "${network}" (${(view.network.config as { url?: string }).url ?? "in-process"}) does not answer: ${(e as Error).message.split("\n")[0]}`, "CHAIN_UNREACHABLE");
    }
    const s = await ledger.state();
    members.push({ network, hre: view, ledger, chainId: s.chainId, rollup: s.rollup, domain: s.domain, tag: s.chainTag });
  }
  const [first] = members;
  for (const m of members.slice(1)) {
    if (m.domain !== first.domain)
      throw new FlavumError(
        `the rollups on ${first.network} (${first.rollup}) and ${m.network} (${m.rollup}) are different rollups: domains ${hex(first.domain)} and ${hex(m.domain)}; ` +
          `deploy them together with rollup:deploy --chains`,
        "WRONG_DEPLOYMENT",
      );
    const same = members.find((o) => o !== m && (o.chainId === m.chainId || o.tag === m.tag));
    if (same)
      throw new FlavumError(`${same.network} and ${m.network} are ${same.chainId === m.chainId ? `the same chain (id ${m.chainId})` : `both chain tag ${m.tag}`}: each chain of a rollup is listed once`, "BAD_INPUT");
  }
  return members;
}
