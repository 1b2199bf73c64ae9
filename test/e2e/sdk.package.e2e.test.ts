/**
 * @flavum/sdk as a user gets it: built (npm run build:sdk), packed (npm pack), installed into a
 * fresh project outside this repository from the tarball alone (its dependencies from the npm
 * registry or cache), and used there from plain JavaScript: ABIs, typed contracts, input encoding
 * that agrees with the project's, signatures the node's check recovers — then the example dApp,
 * run from that project against a real node and chain, gets a proof the rollup confirms.
 */
import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import fs from "fs";
import http from "http";
import os from "os";
import path from "path";
import type { AddressInfo } from "net";
import hre from "hardhat";
import { REPO } from "../helpers/circuit";
import { heldout } from "../helpers/fixtures";
import { compileRollupModel, registeredRollup } from "../helpers/rollup";
import { encodeInput } from "../../src/sdk/encodeInput";
import { FlavumNodeClient } from "../../src/sdk/client";
import { startNode, RunningNode } from "../../src/node/node";

const SDK_DIR = path.join(REPO, "packages", "sdk");

function sh(cmd: string, args: string[], cwd: string, timeout = 5 * 60_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_update_notifier: "false" } });
  expect(r.status, `${cmd} ${args.join(" ")} in ${cwd}:\n${r.stdout}\n${r.stderr}`).to.equal(0);
  return r.stdout;
}

/** A child that must not block this process: the node it talks to runs here. */
function runAsync(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
    c.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

/**
 * The in-process chain over JSON-RPC, for a program in another process: what `npx hardhat node`
 * serves, without starting one (the node under test shares this chain).
 */
async function rpcBridge(): Promise<{ url: string; close(): Promise<void> }> {
  const one = async (m: { id: unknown; method: string; params?: unknown[] }) => {
    try {
      return { jsonrpc: "2.0", id: m.id, result: await hre.network.provider.request({ method: m.method, params: m.params ?? [] }) };
    } catch (e) {
      const x = e as { code?: number; message: string; data?: unknown };
      return { jsonrpc: "2.0", id: m.id, error: { code: x.code ?? -32603, message: x.message, data: x.data } };
    }
  };
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    const msg = JSON.parse(body);
    const out = Array.isArray(msg) ? await Promise.all(msg.map(one)) : await one(msg);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

describe("sdk: the @flavum/sdk package, packed and installed outside the repository", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-sdk-pkg-"));
  const project = path.join(tmp, "app");
  let node: RunningNode | undefined;
  let bridge: Awaited<ReturnType<typeof rpcBridge>> | undefined;

  before(async function () {
    sh("npm", ["run", "--silent", "build:sdk", "--", "--quiet"], REPO);
    const packed = JSON.parse(sh("npm", ["pack", "--json", "--pack-destination", tmp], SDK_DIR));
    const tarball = path.join(tmp, packed[0].filename);
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    expect(files).to.include.members(["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/abi/FlavumRollup.json"]);
    expect(files.filter((f) => !f.startsWith("dist/") && !["package.json", "README.md"].includes(f)), "nothing but dist and the manifest").to.deep.equal([]);

    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "flavum-sdk-consumer", version: "1.0.0", private: true }, null, 2));
    sh("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], project);
  });

  after(async () => {
    await node?.stop();
    await bridge?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("works from plain JavaScript in a project of its own", async () => {
    const installed = path.join(project, "node_modules", "@flavum", "sdk");
    expect(fs.lstatSync(installed).isSymbolicLink(), "a copy, not a link into the repo").to.equal(false);
    // Only the package's own dependencies came along: nothing of the project's toolchain.
    for (const heavy of ["hardhat", "snarkjs", "better-sqlite3", "typescript"]) expect(fs.existsSync(path.join(project, "node_modules", heavy)), heavy).to.equal(false);

    const sample = heldout("logreg_cancer").inputs[0];
    const layout = { inputSize: sample.length, inputScale: 10, inputBits: 16 };
    const want = await encodeInput(layout, sample);
    fs.writeFileSync(path.join(project, "smoke.js"), `
      "use strict";
      const sdk = require("@flavum/sdk");
      const { Interface, Wallet, verifyTypedData } = require("ethers");
      const abi = require("@flavum/sdk/abi/FlavumRollup.json");
      const out = {};
      out.abiHasVerify = new Interface(abi).getFunction("verifyInference") !== null;
      out.factoryHasVerify = sdk.FlavumRollup__factory.createInterface().getFunction("verifyInference").format();
      out.consumerAbi = require("@flavum/sdk/abi/IFlavumConsumer.json").some((f) => f.name === "onInference");
      const client = new sdk.FlavumNodeClient("http://127.0.0.1:8480/");
      out.url = client.url;
      (async () => {
        const layout = JSON.parse(process.argv[2]);
        const sample = JSON.parse(process.argv[3]);
        const enc = await sdk.encodeInput(layout, sample);
        out.inputHash = enc.inputHash.toString();
        out.input = enc.input;
        const w = Wallet.createRandom();
        const domain = sdk.requestDomain(31337n, "0x" + "11".repeat(20));
        const msg = { modelId: 1n, inputHash: enc.inputHash, nonce: sdk.randomNonce(), deadline: 2n ** 40n };
        const sig = await w.signTypedData(domain, sdk.INFERENCE_REQUEST_TYPES, msg);
        out.recovered = sdk.requestSigner(domain, msg, sig) === w.address && verifyTypedData(domain, sdk.INFERENCE_REQUEST_TYPES, msg, sig) === w.address;
        try { sdk.quantizeSample(layout, [1]); } catch (e) { out.inputError = e instanceof sdk.InputError && e.code; }
        try { await new sdk.FlavumNodeClient("http://127.0.0.1:1").status(); } catch (e) { out.unreachable = e instanceof sdk.FlavumNodeError && e.status === 0 && e.code; }
        console.log(JSON.stringify(out));
      })();
    `);
    const r = JSON.parse(sh("node", ["smoke.js", JSON.stringify(layout), JSON.stringify(sample)], project).trim());
    expect(r).to.deep.include({
      abiHasVerify: true, consumerAbi: true, url: "http://127.0.0.1:8480", inputHash: want.inputHash.toString(), input: want.input,
      recovered: true, inputError: "BAD_INPUT", unreachable: "UNREACHABLE",
    });
    expect(r.factoryHasVerify).to.match(/^verifyInference\(uint256,\(uint256,uint256,uint256,uint256\),uint256,uint256\[\]\)$/);
  });

  it("the example dApp, run from that project, gets a proof from a real node and the rollup confirms it", async () => {
    await compileRollupModel();
    const f = await registeredRollup(4);
    node = await startNode(hre, { port: 0, store: f.store, addresses: f.d.addresses, batchTimeoutMs: 1000, pollMs: 200 });
    bridge = await rpcBridge();
    fs.copyFileSync(path.join(REPO, "examples", "dapp", "request.js"), path.join(project, "request.js"));
    const sampleFile = path.join(REPO, "fixtures", "data", "logreg_cancer.sample.json");
    const r = await runAsync("node", ["request.js", "--node", node.url, "--rpc", bridge.url, "--sample-file", sampleFile, "--index", "1",
      "--account", "2", "--rollup", f.d.addresses.rollup, "--timeout", "90", "--json"], project, 120_000);
    expect(r.code, r.err + r.out).to.equal(0);
    const out = JSON.parse(r.out.trim().split("\n").pop()!);
    expect(out).to.deep.include({ modelId: f.modelId.toString(), rollup: f.d.addresses.rollup, rollupPinned: true, verified: true });
    expect(out.output[0]).to.be.within(0, 1);
    const seen = await new FlavumNodeClient(node.url).request(out.requestId);
    expect(seen.signer).to.equal(await (await hre.ethers.getSigners())[2].getAddress());
    // Its own check agrees with the rollup read directly.
    const p = seen.proof!;
    expect(await f.d.rollup.verifyInference(p.batchId, p.entry, p.index, p.path)).to.equal(true);
  });
});
