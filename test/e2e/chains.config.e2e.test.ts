/**
 * Two EVM chains side by side, as the multi-chain tests need them: `hardhat node`s whose chain ids
 * come from FLAVUM_CHAIN_ID, and the `localhost2` network reaching the second one through
 * FLAVUM_RPC_URL_2. A deployment sent to `localhost2` lands on the second chain only, recorded with
 * its chain id; a chain id that is not a positive integer is refused, naming the variable.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { cliEnv, runHardhat, startHardhatNode, type HardhatNode } from "../helpers/processes";

async function rpc(url: string, method: string, params: unknown[] = []): Promise<string> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result: string };
  return body.result;
}

describe("two EVM chains side by side (FLAVUM_CHAIN_ID, localhost2)", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-chains-"));
  const nodes: HardhatNode[] = [];

  before(async () => {
    for (const id of ["31338", "31339"]) nodes.push(await startHardhatNode({ env: { ...process.env, FLAVUM_CHAIN_ID: id } }));
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("gives each node the chain id it was started with", async () => {
    expect(BigInt(await rpc(nodes[0].url, "eth_chainId"))).to.equal(31338n);
    expect(BigInt(await rpc(nodes[1].url, "eth_chainId"))).to.equal(31339n);
  });

  it("deploys to the second chain through --network localhost2, and only there", async () => {
    const env = { ...cliEnv(tmp, nodes[0].url), FLAVUM_RPC_URL_2: nodes[1].url };
    const r = await runHardhat(["rollup:deploy", "--state-depth", "8", "--state-ops", "4", "--network", "localhost2"], { env });
    expect(r.code, r.err).to.equal(0);
    const rec = JSON.parse(fs.readFileSync(path.join(tmp, "localhost2.json"), "utf8"));
    expect(rec.FlavumRollup.chainId).to.equal("31339");
    const rollup = rec.FlavumRollup.address as string;
    expect(await rpc(nodes[1].url, "eth_getCode", [rollup, "latest"])).to.not.equal("0x");
    expect(await rpc(nodes[0].url, "eth_getCode", [rollup, "latest"])).to.equal("0x");
    expect(fs.existsSync(path.join(tmp, "localhost.json"))).to.equal(false);
  });

  it("refuses a chain id that is not a positive integer, naming FLAVUM_CHAIN_ID", async () => {
    const r = await runHardhat(["compile", "--quiet"], { env: { ...process.env, FLAVUM_CHAIN_ID: "chain-b" } });
    expect(r.code).to.not.equal(0);
    expect(r.err).to.match(/FLAVUM_CHAIN_ID must be a positive integer \(a chain id such as 31338\), got "chain-b"/);
  });
});
