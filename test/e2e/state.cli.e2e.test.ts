/**
 * The rollup state from the command line against a persistent chain (`npx hardhat node`): data points
 * deposited, inferred on, shown, withdrawn and claimed, the errors users meet, and the exodus with the
 * sequencer stopped — every step its own `npx hardhat` process, as users run them.
 */
import { expect } from "chai";
import fs from "fs";
import http from "http";
import os from "os";
import path from "path";
import { Contract, ContractFactory, JsonRpcProvider } from "ethers";
import { REPO } from "../helpers/circuit";
import { usePtauDir } from "../helpers/fixtures";
import { cliEnv, freePort, hardhatSync, lastJson, startHardhatNode, type HardhatNode, type Run } from "../helpers/processes";

const ETH = 10n ** 18n;

describe("rollup state command line on a hardhat node", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-state-cli-"));
  let url = "";
  let env: NodeJS.ProcessEnv = {};
  let node: HardhatNode | undefined;
  let accounts: string[] = [];
  const sample = path.join(tmp, "one-sample.json");
  const samples = path.join(REPO, "fixtures/data/logreg_cancer.sample.json");

  const hardhat = (...args: string[]): Run => {
    const r = hardhatSync([...args, "--network", "localhost"], { env, timeoutMs: 10 * 60_000 });
    // npm's own warnings about the user's npm config are npx's, not the command's.
    return { ...r, err: r.err.split("\n").filter((l) => !/^npm warn /i.test(l)).join("\n") };
  };
  const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;
  const json = (r: Run) => lastJson(r, show(r));
  /** A user error: exit code 1, one `Error: ...` line (the last on stderr), no stack trace. */
  const fails = (r: Run, message: RegExp) => {
    expect(r.code, show(r)).to.equal(1);
    const lines = r.err.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("Error:")), show(r)).to.have.length(1);
    expect(lines[lines.length - 1], show(r)).to.match(/^Error: /).and.to.match(message);
    expect(r.err, show(r)).to.not.match(/^\s+at /m);
    return lines[lines.length - 1];
  };

  // The node's JSON-RPC, one connection per call (a kept-alive socket the node closed meanwhile fails the next call).
  let rpcId = 0;
  const rpc = (method: string, params: unknown[] = []) =>
    new Promise<any>((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params });
      const req = http.request(url, { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          try {
            const r = JSON.parse(text) as { result?: any; error?: { message: string } };
            if (r.error) reject(new Error(`${method}: ${r.error.message}`));
            else resolve(r.result);
          } catch (e) {
            reject(new Error(`${method}: ${(e as Error).message}: ${text}`));
          }
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  const balanceOf = async (a: string) => BigInt(await rpc("eth_getBalance", [a, "latest"]));
  const feeOf = async (txHash: string) => {
    const r = await rpc("eth_getTransactionReceipt", [txHash]);
    expect(r, `receipt of ${txHash}`).to.not.equal(null);
    expect(r.status, `status of ${txHash}`).to.equal("0x1");
    return BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice);
  };
  const blockNumber = async () => Number(BigInt(await rpc("eth_blockNumber")));

  const startNode = async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // A cache of its own: the models and sequencer stores live under it, and no run sees another's.
    env = cliEnv(tmp, url);
    // Its own process group (npx starts the node as a child), so after() can end all of it.
    node = await startHardhatNode({ port, env, hostname: "127.0.0.1" });
    accounts = (await rpc("eth_accounts")).map((a: string) => a.toLowerCase());
  };

  const stopNode = async () => node?.stop({ killAfterMs: 10_000 });

  before(async () => {
    usePtauDir();
    // A data point is one sample: the fixture file holds several, so take the first.
    const all = JSON.parse(fs.readFileSync(samples, "utf8"));
    fs.writeFileSync(sample, JSON.stringify(Array.isArray(all[0]) ? all[0] : all));
    await startNode();
  });

  after(async () => {
    await stopNode();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  // Carried from step to step: the steps are one user's session.
  let owned = ""; // signer 0's data point, 0.5 ETH
  let common = ""; // signer 1's common data point
  let request = "";
  let contentHash = "";
  let modelId = "";

  it("deploys the rollup with a small state circuit, compiles and registers the model", () => {
    const d = hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4", "--deadline", "20");
    expect(d.code, show(d)).to.equal(0);
    expect(d.out).to.match(/FlavumState\s+0x[0-9a-fA-F]{40} \(depth 8, 4 ops per state batch, deadline 20 blocks\)/);
    const recorded = JSON.parse(fs.readFileSync(path.join(tmp, "localhost.json"), "utf8"));
    expect(recorded.FlavumState.address).to.match(/^0x[0-9a-fA-F]{40}$/);

    const c = hardhatSync(["model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "rollup_logreg",
      "--calibration", "fixtures/data/logreg_cancer.calibration.json"], { env, timeoutMs: 10 * 60_000 });
    expect(c.code, c.err).to.equal(0);

    const reg = json(hardhat("model:register", "--name", "rollup_logreg", "--batch", "4", "--json"));
    expect(reg.batchSize).to.equal(4);
    modelId = reg.modelId;
    expect(modelId).to.equal("1");
  });

  it("deposits an owned data point with ETH and a common one from another signer", async () => {
    const before = await balanceOf(accounts[0]);
    const dep = json(hardhat("dp:deposit", "--input", sample, "--value", "0.5", "--json"));
    expect(dep).to.have.keys("dataPoint", "txHash");
    expect(dep.dataPoint).to.match(/^\d+$/);
    expect(dep.txHash).to.match(/^0x[0-9a-f]{64}$/);
    owned = dep.dataPoint;
    expect(await balanceOf(accounts[0])).to.equal(before - ETH / 2n - (await feeOf(dep.txHash)));

    const com = json(hardhat("dp:deposit", "--input", sample, "--common", "--from", "1", "--json"));
    common = com.dataPoint;
    expect(BigInt(common)).to.be.greaterThan(BigInt(owned));

    // Until the next state batch both wait in the queue.
    const q = json(hardhat("dp:show", "--id", owned, "--json"));
    expect(q.location).to.equal("queued");
    expect(q.owner.toLowerCase()).to.equal(accounts[0]);
    expect(q.balance).to.equal("500000000000000000");
  });

  it("requests an inference on the data point; batch:run proves the state, then the inference, and delivers it", () => {
    const r = json(hardhat("infer:request", "--model", "rollup_logreg", "--datapoint", owned, "--json"));
    expect(r.requests).to.have.length(1);
    request = r.requests[0];

    const first = json(hardhat("batch:run", "--json"));
    // Two deposits and the request's authorisation, all valid, in one state batch.
    expect(first.stateBatches).to.have.length(1);
    expect(first.stateBatches[0]).to.include({ stateBatch: "0", operations: 3, status: "111" });
    expect(first.stateBatches[0].txHash).to.match(/^0x[0-9a-f]{64}$/);
    // The request, released to its model by that state batch, is proven and settled in the same run.
    expect(first.inferences).to.equal(1);
    expect(first.batchId).to.match(/^\d+$/);
    // Delivery is a queue: a later run fulfils what an earlier one settled, if it did not get to it.
    let results = json(hardhat("dp:show", "--id", owned, "--json")).results;
    for (let i = 0; i < 3 && results.length === 0; i++) {
      json(hardhat("batch:run", "--json"));
      results = json(hardhat("dp:show", "--id", owned, "--json")).results;
    }
    expect(results).to.have.length(1);
  });

  it("shows the data point: owner, kind, content, balance, location and its verified result", () => {
    const v = json(hardhat("dp:show", "--id", owned, "--json"));
    expect(v.dataPoint).to.equal(owned);
    expect(v.owner.toLowerCase()).to.equal(accounts[0]);
    expect(v.kind).to.equal("owned");
    expect(v.contentHash).to.match(/^[1-9]\d*$/);
    contentHash = v.contentHash;
    expect(v.balance).to.equal("500000000000000000");
    expect(v.asset).to.equal("ETH");
    expect(v.location).to.equal("rollup");
    expect(v.results).to.have.length(1);
    const [res] = v.results;
    expect(res.modelId).to.equal(modelId);
    expect(res.verified).to.equal(true);
    expect(res.label).to.be.oneOf([0, 1]);
    expect(res.output).to.match(/^\d+$/);
    expect(Number(BigInt(res.output) & 0xffn)).to.equal(res.label);

    // The sequencer's trace of the on-chain request tells the same story.
    const t = json(hardhat("trace:show", "--request", request, "--json"));
    expect(t.verified).to.equal(true);
    expect(t.outputWord).to.equal(res.output);
    expect(t.batch).to.equal(res.batch);
    expect(t.label).to.equal(res.label);

    // The common one: same sample, same content; owned by its depositor, no balance, no results.
    const c = json(hardhat("dp:show", "--id", common, "--json"));
    expect(c).to.include({ kind: "common", location: "rollup", balance: "0", contentHash });
    expect(c.owner.toLowerCase()).to.equal(accounts[1]);
    expect(c.results).to.deep.equal([]);
  });

  it("withdraws the data point: exit proven by batch:run, claimed once as an L1 token with its balance", async () => {
    const w = json(hardhat("dp:withdraw", "--id", owned, "--json"));
    expect(w.dataPoint).to.equal(owned);
    const b = json(hardhat("batch:run", "--json"));
    expect(b.stateBatches).to.have.length(1);
    expect(b.stateBatches[0]).to.include({ operations: 1, status: "1" });

    const exiting = json(hardhat("dp:show", "--id", owned, "--json"));
    expect(exiting).to.include({ location: "exiting", balance: "500000000000000000", contentHash, kind: "owned" });
    expect(exiting.owner.toLowerCase()).to.equal(accounts[0]);

    const before = await balanceOf(accounts[0]);
    const c = json(hardhat("dp:claim", "--id", owned, "--json"));
    expect(c).to.have.keys("token", "txHash");
    expect(c.token).to.equal(owned);
    expect(await balanceOf(accounts[0])).to.equal(before + ETH / 2n - (await feeOf(c.txHash)));

    const token = json(hardhat("dp:show", "--id", owned, "--json"));
    expect(token).to.include({ location: "l1-token", contentHash, balance: "0" });
    expect(token.owner.toLowerCase()).to.equal(accounts[0]);
    // The proven result stays with it.
    expect(token.results).to.have.length(1);
    expect(token.results[0].verified).to.equal(true);

    const again = hardhat("dp:claim", "--id", owned);
    fails(again, new RegExp(`data point ${owned} is l1-token, not exiting`));
    expect(again.err.trim().split("\n"), show(again)).to.have.length(1);
  });

  it("lets another contract on the node read the verified result, and takes the token back into the rollup", async () => {
    const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
    try {
      const signer = await provider.getSigner(accounts[0]);
      const recorded = JSON.parse(fs.readFileSync(path.join(tmp, "localhost.json"), "utf8"));
      const artifact = (p: string) => JSON.parse(fs.readFileSync(path.join(REPO, "artifacts/contracts", p), "utf8"));
      const reader = artifact("examples/DataPointReader.sol/DataPointReader.json");
      const dapp = await new ContractFactory(reader.abi, reader.bytecode, signer).deploy(recorded.FlavumRollup.address);
      await dapp.waitForDeployment();
      const c = new Contract(await dapp.getAddress(), reader.abi, signer);
      await (await c.record(BigInt(owned), BigInt(modelId))).wait();
      const shown = json(hardhat("dp:show", "--id", owned, "--json")).results[0];
      expect(Number(await c.labelOf(BigInt(owned), BigInt(modelId)))).to.equal(shown.label);

      const state = new Contract(recorded.FlavumState.address, artifact("rollup/FlavumState.sol/FlavumState.json").abi, signer);
      await (await state.depositToken(BigInt(owned))).wait();
      expect(json(hardhat("dp:show", "--id", owned, "--json")).location).to.equal("queued");
      json(hardhat("batch:run", "--json"));
      const back = json(hardhat("dp:show", "--id", owned, "--json"));
      expect(back).to.include({ location: "rollup", contentHash, balance: "0" });
      expect(back.owner.toLowerCase()).to.equal(accounts[0]);
    } finally {
      provider.destroy();
    }
  });

  it("refuses what cannot be done with one clear line", () => {
    fails(hardhat("rollup:exodus"), /nothing is overdue/);
    fails(hardhat("dp:show", "--id", "999"), /no data point 999 on this rollup/);
    fails(hardhat("dp:show", "--id", "nope"), /--id must be a data point id/);
    fails(hardhat("dp:deposit", "--input", sample, "--common", "--value", "1"), /a common data point carries no balance/);
    fails(hardhat("dp:deposit", "--input", samples), /holds \d+ samples; a data point is one sample/);
    fails(hardhat("dp:deposit", "--input", sample, "--value", "lots"), /--value must be an amount of ETH/);
    fails(hardhat("dp:transfer", "--id", common, "--to", "not-an-address"), /--to must be an address/);
    fails(hardhat("dp:exodus", "--id", common), /not in exodus mode/);
  });

  it("accepts a transfer of a common data point, which the state batch proves invalid", () => {
    // Sent by its depositor: the only thing wrong is that a common data point has no owner to change.
    const t = json(hardhat("dp:transfer", "--id", common, "--to", accounts[4], "--from", "1", "--json"));
    expect(t.dataPoint).to.equal(common);
    expect(t.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const b = json(hardhat("batch:run", "--json"));
    expect(b.stateBatches).to.have.length(1);
    expect(b.stateBatches[0]).to.include({ operations: 1, status: "0" });
    const c = json(hardhat("dp:show", "--id", common, "--json"));
    expect(c.owner.toLowerCase()).to.equal(accounts[1]);
    expect(c).to.include({ kind: "common", location: "rollup" });
  });

  it("exodus with the sequencer stopped: the proven data point is withdrawn, the queued deposit refunded", async () => {
    const inState = json(hardhat("dp:deposit", "--input", sample, "--value", "2", "--from", "2", "--json")).dataPoint;
    const b = json(hardhat("batch:run", "--json"));
    expect(b.stateBatches).to.have.length(1);
    expect(b.stateBatches[0]).to.include({ operations: 1, status: "1" });
    expect(json(hardhat("dp:show", "--id", inState, "--json")).location).to.equal("rollup");

    // The sequencer stops: this deposit stays queued.
    const queued = json(hardhat("dp:deposit", "--input", sample, "--value", "3", "--from", "3", "--json")).dataPoint;
    expect(json(hardhat("dp:show", "--id", queued, "--json")).location).to.equal("queued");
    fails(hardhat("rollup:exodus"), /nothing is overdue: the oldest waiting operation \(\d+\) is due at block \d+/);

    const start = await blockNumber();
    await rpc("hardhat_mine", ["0x15"]); // 21 blocks: past the 20-block deadline
    expect(await blockNumber()).to.equal(start + 21);

    const ex = json(hardhat("rollup:exodus", "--json"));
    expect(ex.exodus).to.equal(true);
    expect(ex.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(ex.root).to.match(/^\d+$/);
    fails(hardhat("rollup:exodus"), /already in exodus mode/);
    fails(hardhat("batch:run"), /exodus/);

    // The owner withdraws from the last proven state, from L1 data alone.
    const before2 = await balanceOf(accounts[2]);
    const w = json(hardhat("dp:exodus", "--id", inState, "--from", "2", "--json"));
    expect(w).to.include({ dataPoint: inState, action: "withdrawn" });
    expect(await balanceOf(accounts[2])).to.equal(before2 + 2n * ETH - (await feeOf(w.txHash)));

    // The deposit that never entered the state is refunded to its depositor, whoever sends the refund.
    const before3 = await balanceOf(accounts[3]);
    const r = json(hardhat("dp:exodus", "--id", queued, "--json"));
    expect(r).to.include({ dataPoint: queued, action: "refunded" });
    expect(await balanceOf(accounts[3])).to.equal(before3 + 3n * ETH);
  });
});
