/**
 * One rollup on two EVM chains, as users run it: two `hardhat node`s with their own chain ids,
 * `rollup:deploy --chains`, `model:register --chains`, requests on both chains, `batch:run --chains`
 * proving each batch once and settling it on both, results delivered on the chain each request came
 * from, `rollup:status` agreeing, the history anchored in a local Mina ledger and checked by
 * `rollup:anchor-check`. A halted chain (a node that stops mining) holds nothing up: the rollup goes
 * on on the other, and the halted one is caught up, in order, once it mines again. Real proofs.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { usePtauDir } from "../helpers/fixtures";
import { cliEnv, hardhatSync, lastJson, startHardhatNode, type HardhatNode } from "../helpers/processes";
import { encodeInput, readInputLayout } from "../../src/sdk/encodeInput";
import { signerPrivateKey } from "../../src/chain/signerKey";
import { historyTransitions } from "../../src/protocol/history";

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return ((await res.json()) as { result: unknown }).result;
}

describe("one rollup settled on two EVM chains and anchored in Mina (command line, real proofs)", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-multichain-"));
  const anchorFile = path.join(tmp, "anchor.json");
  const store = path.join(tmp, "sequencer.db");
  const sample = path.join(tmp, "one.json");
  const nodes: HardhatNode[] = [];
  let env: NodeJS.ProcessEnv;
  const CHAINS = "localhost,localhost2";
  const hardhat = (...args: string[]) => hardhatSync(args, { env, timeoutMs: 10 * 60_000 });
  const json = (...args: string[]) => lastJson(hardhat(...args, "--json"));
  const recorded = (network: string) => JSON.parse(fs.readFileSync(path.join(tmp, `${network}.json`), "utf8"));

  /** A contract on one of the nodes, signed by the Hardhat account `index`. */
  const contractOn = async (node: HardhatNode, name: string, address: string, index = 2) => {
    const wallet = new Wallet(signerPrivateKey(hre, index), new JsonRpcProvider(node.url, undefined, { staticNetwork: true, polling: true, pollingInterval: 50 }));
    return new Contract(address, (await hre.artifacts.readArtifact(name)).abi, wallet);
  };

  before(async () => {
    usePtauDir();
    for (const id of ["31338", "31339"]) nodes.push(await startHardhatNode({ env: { ...process.env, FLAVUM_CHAIN_ID: id } }));
    env = { ...cliEnv(tmp, nodes[0].url), FLAVUM_RPC_URL_2: nodes[1].url };
    const heldout = JSON.parse(fs.readFileSync("fixtures/data/logreg_cancer.sample.json", "utf8"));
    fs.writeFileSync(sample, JSON.stringify([heldout[0]]));
    const c = hardhat("model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "chains_logreg", "--calibration", "fixtures/data/logreg_cancer.calibration.json");
    expect(c.code, c.err).to.equal(0);
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  let rollups: { a: Contract; b: Contract };
  let modelId = 0n;

  it("deploys one domain on both chains, each listing the other, and registers the model with one id on both", async () => {
    const d = json("rollup:deploy", "--chains", CHAINS, "--state-depth", "8", "--state-ops", "4");
    expect(d.chains.map((c: { chainId: string }) => c.chainId)).to.deep.equal(["31338", "31339"]);
    expect(d.chains.map((c: { chainTag: number }) => c.chainTag)).to.deep.equal([0, 1]);
    for (const c of d.chains) expect(c.domain).to.equal(d.domain);
    rollups = {
      a: await contractOn(nodes[0], "FlavumRollup", recorded("localhost").FlavumRollup.address),
      b: await contractOn(nodes[1], "FlavumRollup", recorded("localhost2").FlavumRollup.address),
    };
    for (const r of [rollups.a, rollups.b]) {
      expect(await r.domain()).to.equal(BigInt(d.domain));
      const s = (await r.settlements()).map((x: { chainId: bigint; rollup: string; tag: bigint }) => [x.chainId, x.rollup, Number(x.tag)]);
      expect(s).to.have.deep.members([[31338n, d.chains[0].rollup, 0], [31339n, d.chains[1].rollup, 1]]);
    }

    const reg = json("model:register", "--chains", CHAINS, "--name", "chains_logreg", "--batch", "4", "--store", store);
    expect(reg.chains.map((c: { network: string }) => c.network)).to.deep.equal(["localhost", "localhost2"]);
    modelId = BigInt(reg.modelId);
    // Registering again changes nothing on either chain.
    const again = json("model:register", "--chains", CHAINS, "--name", "chains_logreg", "--batch", "4", "--store", store);
    expect(again.modelId).to.equal(reg.modelId);
    expect(again.chains.every((c: { reused: boolean }) => c.reused)).to.equal(true);
  });

  let requestB = 0n;

  it("proves a batch once with requests of both chains and settles it on both; each chain serves its own request", async () => {
    lastJson(hardhat("infer:request", "--model", "chains_logreg", "--input", sample, "--store", store, "--network", "localhost", "--json"));
    // An on-chain request on chain B: its id carries B's tag.
    const registryB = await contractOn(nodes[1], "ModelRegistry", await rollups.b.registry());
    const enc = await encodeInput(await readInputLayout(registryB as never, modelId), JSON.parse(fs.readFileSync(sample, "utf8"))[0]);
    const fee = await rollups.b.estimateFee(modelId);
    await (await rollups.b.requestInference(modelId, enc.inputHash, enc.input, hre.ethers.ZeroAddress, { value: fee })).wait();
    requestB = (1n << 47n) + 1n;
    expect((await rollups.b.requestOf(requestB)).status).to.equal(1n); // pending

    const run = json("batch:run", "--chains", CHAINS, "--store", store, "--anchor", anchorFile);
    expect(run.batchId).to.match(/^\d+$/);
    expect(run.chains).to.have.length(1);
    expect(run.chains[0]).to.include({ network: "localhost2", from: 0, to: 1, target: 1 });
    expect(run.chains[0].sent[0].gasUsed).to.match(/^\d+$/);
    expect(run.anchored.anchored).to.equal(1);
    // Chain B's request was in the batch that settled on B, and its result was delivered there.
    expect((await rollups.b.requestOf(requestB)).status).to.equal(3n); // fulfilled

    const status = json("rollup:status", "--chains", CHAINS, "--anchor", anchorFile);
    expect(status.agree).to.equal(true);
    expect(status.chains.map((c: { batches: number }) => c.batches)).to.deep.equal([1, 1]);
    expect(status.chains[0].root).to.equal(status.chains[1].root);
    expect(status.anchor).to.include({ kind: "mina", batches: 1, root: status.chains[0].root });
    // Both chains' history is the one their events give.
    const [h] = historyTransitions((await rollups.a.queryFilter(rollups.a.filters.BatchSubmitted())).map((e) => {
      const a = (e as unknown as { args: { batchId: bigint; oldRoot: bigint; newRoot: bigint; batchRoot: bigint } }).args;
      return { batchId: a.batchId, oldRoot: a.oldRoot, newRoot: a.newRoot, batchRoot: a.batchRoot };
    }));
    expect("0x" + h.newRoot.toString(16)).to.equal(status.chains[1].root);

    const check = json("rollup:anchor-check", "--chains", CHAINS, "--anchor", anchorFile);
    expect(check.ok).to.equal(true);
  });

  it("goes on settling on chain A while chain B is halted, and catches B up in order when it mines again", async () => {
    await rpc(nodes[1].url, "evm_setAutomine", [false]);
    lastJson(hardhat("infer:request", "--model", "chains_logreg", "--input", sample, "--store", store, "--network", "localhost", "--json"));
    const halted = lastJson(hardhatSync(["batch:run", "--chains", CHAINS, "--store", store, "--json"], { env: { ...env, FLAVUM_TX_TIMEOUT_MS: "3000" }, timeoutMs: 10 * 60_000 }));
    expect(halted.batchId).to.match(/^\d+$/);
    expect(halted.chains[0].pending).to.match(/not mined yet on localhost2/);

    const lagging = json("rollup:status", "--chains", CHAINS);
    expect(lagging.agree).to.equal(false);
    expect(lagging.chains.map((c: { batches: number }) => c.batches)).to.deep.equal([2, 1]);
    // The anchor was not told about batch 2: the check names the gap and fails.
    const gap = hardhat("rollup:anchor-check", "--chains", CHAINS, "--anchor", anchorFile, "--json");
    expect(gap.code).to.not.equal(0);
    expect(JSON.parse(gap.out.trim().split("\n").pop()!).ok).to.equal(false);

    // B mines again: the transaction sent while it was halted lands, and no second one is sent.
    await rpc(nodes[1].url, "evm_setAutomine", [true]);
    await rpc(nodes[1].url, "evm_mine");
    const caught = json("batch:run", "--chains", CHAINS, "--store", store, "--anchor", anchorFile);
    expect(caught.batchId).to.equal(null);
    expect(caught.chains[0]).to.include({ from: 2, to: 2, target: 2 });
    expect(caught.chains[0].sent).to.have.length(0);
    expect(caught.anchored.anchored).to.equal(1);

    const agreed = json("rollup:status", "--chains", CHAINS, "--anchor", anchorFile);
    expect(agreed.agree).to.equal(true);
    expect(agreed.chains.map((c: { batches: number }) => c.batches)).to.deep.equal([2, 2]);
    expect(agreed.anchor.batches).to.equal(2);
    expect(json("rollup:anchor-check", "--chains", CHAINS, "--anchor", anchorFile).ok).to.equal(true);
  });

  it("refuses chains that are not one rollup, and a bad --chains", () => {
    const bad = hardhat("rollup:status", "--chains", "localhost,localhost");
    expect(bad.code).to.not.equal(0);
    expect(bad.err).to.match(/--chains lists network "localhost" twice/);
    const unknown = hardhat("rollup:status", "--chains", "localhost,nowhere");
    expect(unknown.code).to.not.equal(0);
    expect(unknown.err).to.match(/network "nowhere" is not configured/);
  });
});
