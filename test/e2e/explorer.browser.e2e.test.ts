/**
 * The explorer in a real browser (Debian's chromium driven by puppeteer-core) against a real node:
 * a `hardhat node` chain, the rollup deployed and a model registered by the CLI, `sequencer:serve`
 * sequencing signed requests sent over HTTP. A reader clicks from the batches to an inference and
 * asks the chain, from the page, whether it is proven; the page follows the node's events live.
 *
 * Every process runs in a process group of its own and the whole group is stopped afterwards, on
 * failure too. Without /usr/bin/chromium the suite is skipped, saying so (CI needs the Debian package).
 * The screenshot goes to docs/explorer.png when that is missing or FLAVUM_UPDATE_SCREENSHOT is set.
 */
import { expect } from "chai";
import type { ChildProcess } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { HDNodeWallet, Interface } from "ethers";
import type { Browser, Page } from "puppeteer-core";
import { REPO } from "../helpers/circuit";
import { usePtauDir } from "../helpers/fixtures";
import { cliEnv, freePort, runHardhat, signalGroup, startHardhat, startHardhatNode, stopGroup } from "../helpers/processes";
import { encodeInput, layoutFromShape } from "../../src/sdk/encodeInput";
import { explorerStale } from "../../src/node/explorerBuild";
import { VERIFY_INFERENCE_ABI } from "../../explorer/src/abi";

const CHROMIUM = "/usr/bin/chromium";
const MNEMONIC = "test test test test test test test test test test test junk";
const SAMPLES: number[][] = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/logreg_cancer.sample.json"), "utf8"));
const MODEL = "rollup_logreg";
const BATCH_DIR = `${MODEL}.batch-4`;
/**
 * The batch keys outlive the run here (build/ is not committed): the groth16 setup alone takes
 * minutes on two cores, and the build reuses keys only for the very same circuit source.
 */
const KEY_CACHE = path.join(REPO, "build", "e2e-cache", "explorer");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("explorer in a browser", function () {
  this.timeout(10 * 60_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-explorer-e2e-"));
  const store = path.join(tmp, "sequencer.db");
  const groups: ChildProcess[] = [];
  let env: NodeJS.ProcessEnv;
  let rpcUrl = "";
  let nodeUrl = "";
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];
  let requestIds: string[] = [];
  let checkedRequest = "";
  const wallet = HDNodeWallet.fromPhrase(MNEMONIC, undefined, "m/44'/60'/0'/0/1");
  let nonce = BigInt(Date.now()) * 1000n;

  /**
   * One CLI command, awaited without blocking the event loop: the chain's own output must keep
   * draining meanwhile, or a full pipe stalls the very node the command is waiting on.
   */
  const hardhat = async (...args: string[]) => {
    const r = await runHardhat(args, { env, track: groups });
    if (r.code !== 0) throw new Error(`hardhat ${args.join(" ")} exited with ${r.code}:\n${r.err}`);
    return r.out;
  };

  // Should mocha itself be stopped (Ctrl-C, a CI timeout), the groups still running go too.
  const killAll = () => groups.forEach((c) => c.pid && c.exitCode === null && c.signalCode === null && signalGroup(c, "SIGKILL"));
  const onSignal = (sig: NodeJS.Signals) => {
    killAll();
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(128 + (sig === "SIGINT" ? 2 : 15));
  };

  const api = async <T>(p: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${nodeUrl}${p}`, init);
    const body = await res.json();
    if (!res.ok) throw new Error(`${p}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body as T;
  };

  /** Signs an InferenceRequest as a user would: EIP-712 over the node's domain, input encoded with the SDK. */
  const sign = async (sample: number[]) => {
    const [model] = await api<{ modelId: string; shape: { inputShape: number[]; inputScale: number; inputBits: number } }[]>("/api/models");
    const eip = await api<{ domain: Record<string, string>; types: Record<string, { name: string; type: string }[]> }>("/api/eip712");
    const enc = await encodeInput(layoutFromShape(model.shape), sample);
    const msg = { modelId: model.modelId, inputHash: enc.inputHash.toString(), nonce: (nonce++).toString(), deadline: String(Math.floor(Date.now() / 1000) + 3600) };
    return { ...msg, input: enc.values.map(String), signature: await wallet.signTypedData(eip.domain, eip.types, msg) };
  };

  const send = async (signed: Awaited<ReturnType<typeof sign>>): Promise<string> => {
    const r = await api<{ requestId: string; signer: string }>("/api/requests", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(signed) });
    expect(r.signer).to.equal(wallet.address);
    return r.requestId;
  };

  const settled = async (id: string, timeoutMs = 150_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await api<{ status: string; reason?: string; proof?: { batchId: string } }>(`/api/requests/${id}`);
      if (r.status === "settled" && r.proof) return r;
      if (r.status === "rejected" || r.status === "closed") throw new Error(`request ${id} was ${r.status}: ${r.reason}`);
      if (Date.now() > until) throw new Error(`request ${id} is still ${r.status} after ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  };

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`    (skipped: ${CHROMIUM} is missing; apt-get install chromium)`);
      return this.skip();
    }
    process.once("exit", killAll);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    usePtauDir();
    const port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
    env = cliEnv(tmp, rpcUrl);

    await startHardhatNode({ port, env, hostname: "127.0.0.1", track: groups });
    await hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4", "--network", "localhost");
    await hardhat("model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", MODEL, "--calibration", "fixtures/data/logreg_cancer.calibration.json");
    const models = path.join(tmp, "build", "models");
    if (fs.existsSync(path.join(KEY_CACHE, BATCH_DIR))) fs.cpSync(path.join(KEY_CACHE, BATCH_DIR), path.join(models, BATCH_DIR), { recursive: true });
    const reg = JSON.parse((await hardhat("model:register", "--name", MODEL, "--batch", "4", "--store", store, "--json", "--network", "localhost")).trim().split("\n").pop()!);
    expect(reg.modelId).to.equal("1");
    // Swapped in whole, so a run stopped halfway never leaves a truncated key for the next one.
    const staged = path.join(KEY_CACHE, `${BATCH_DIR}.${process.pid}.tmp`);
    fs.cpSync(path.join(models, BATCH_DIR), staged, { recursive: true });
    fs.rmSync(path.join(KEY_CACHE, BATCH_DIR), { recursive: true, force: true });
    fs.renameSync(staged, path.join(KEY_CACHE, BATCH_DIR));

    nodeUrl = (await startHardhat(["sequencer:serve", "--port", "0", "--batch-timeout", "1", "--network", "localhost", "--store", store],
      { env, track: groups, ready: (l) => /^http:\/\//.test(l.trim()), what: "sequencer:serve" })).line;
    expect(nodeUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);

    const puppeteer = await import("puppeteer-core");
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--headless=new"] });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    page.on("pageerror", (e) => pageErrors.push((e as Error).message));
    page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
    page.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith("data:") && ![new URL(nodeUrl).origin, new URL(rpcUrl).origin].includes(new URL(u).origin)) foreignRequests.push(u);
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    // The node first (it sends to the chain), then the chain. npx starts the real process as its
    // child: the whole group has to go, or it outlives the tests. Asked to stop first (the node
    // finishes its step), killed if it has not after 15 s, and swept for strays.
    for (const c of [...groups].reverse()) await stopGroup(c, "SIGTERM", { killAfterMs: 15_000, sweep: true });
    process.removeListener("exit", killAll);
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("the node built the page from explorer/, and its verifyInference fragment is the contract's", () => {
    expect(explorerStale(), "build/explorer is older than explorer/").to.equal(undefined);
    const artifact = JSON.parse(fs.readFileSync(path.join(REPO, "artifacts/contracts/rollup/FlavumRollup.sol/FlavumRollup.json"), "utf8"));
    const compiled = new Interface(artifact.abi).getFunction("verifyInference")!;
    const page = new Interface(VERIFY_INFERENCE_ABI).getFunction("verifyInference")!;
    expect(page.format("full")).to.equal(compiled.format("full"));
  });

  it("walks batches → batch → inference and confirms the inference on chain from the page", async () => {
    // Signed first and sent back to back, so they are likely to share a batch (the timeout is 1 s).
    const signed = [];
    for (const s of SAMPLES.slice(0, 3)) signed.push(await sign(s));
    requestIds = [];
    for (const s of signed) requestIds.push(await send(s));
    const proofs = [];
    for (const id of requestIds) proofs.push(await settled(id));
    checkedRequest = requestIds[1];
    const batchId = proofs[1].proof!.batchId;

    await page.goto(`${nodeUrl}/`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector('[data-testid="live-status"][data-state="open"]');
    await page.click('[data-testid="nav-batches"]');
    // The overview has a batches table too: wait for the batches view itself before clicking in it.
    const batchLink = `#view[data-route="batches"] [data-testid="batches-table"] a[href="#/batches/${batchId}"]`;
    await page.waitForSelector(batchLink);
    await page.click(batchLink);
    const entryLink = `#view[data-route="batch"] [data-testid="entry-link"][href="#/requests/${checkedRequest}"]`;
    await page.waitForSelector(entryLink);
    const batch = await api<{ count: number }>(`/api/batches/${batchId}`);
    expect(await page.$$eval('[data-testid="entry-link"]', (a) => a.length)).to.equal(batch.count);
    expect(await page.$eval('[data-testid="trace-store"]', (e) => e.textContent)).to.equal("calldata");
    await page.click(entryLink);
    await page.waitForSelector('#view[data-route="request"] [data-testid="check-on-chain"]:not([disabled])');

    const shown = await api<{ inputHash: string; txHash: string }>(`/api/requests/${checkedRequest}`);
    expect(await page.$eval('[data-testid="request-id"]', (e) => e.textContent)).to.equal(checkedRequest);
    expect(await page.$eval('[data-testid="input-hash"]', (e) => e.textContent)).to.equal(shown.inputHash);
    expect(await page.$eval('[data-testid="tx-hash"]', (e) => e.textContent)).to.equal(shown.txHash);
    expect(await page.$$eval('[data-testid="inclusion-path"] li', (li) => li.length)).to.equal(2); // batch of 4: two levels

    await page.click('[data-testid="check-on-chain"]');
    await page.waitForSelector('[data-testid="check-result"]:is([data-state="confirmed"], [data-state="not-confirmed"], [data-state="error"])', { timeout: 30_000 });
    const result = await page.$eval('[data-testid="check-result"]', (e) => ({ state: e.getAttribute("data-state"), text: e.textContent ?? "" }));
    expect(result.state, result.text).to.equal("confirmed");
    expect(result.text).to.contain("confirmed on chain").and.to.contain(rpcUrl);
  });

  it("says NOT confirmed when the node hands it a proof the chain refuses", async () => {
    // A second tab whose node lies about one sibling of the path: only the chain can tell.
    const liar = await browser!.newPage();
    try {
      await liar.setRequestInterception(true);
      liar.on("request", async (r) => {
        if (!r.url().endsWith(`/api/requests/${checkedRequest}`)) return r.continue();
        const body = await (await fetch(r.url())).json();
        body.proof.path[0] = (BigInt(body.proof.path[0]) ^ 1n).toString();
        return r.respond({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
      });
      await liar.goto(`${nodeUrl}/#/requests/${checkedRequest}`, { waitUntil: "domcontentloaded" });
      await liar.waitForSelector('[data-testid="check-on-chain"]:not([disabled])');
      await liar.click('[data-testid="check-on-chain"]');
      await liar.waitForSelector('[data-testid="check-result"]:is([data-state="confirmed"], [data-state="not-confirmed"], [data-state="error"])', { timeout: 30_000 });
      const text = await liar.$eval('[data-testid="check-result"]', (e) => `${e.getAttribute("data-state")}: ${e.textContent}`);
      expect(text).to.match(/^not-confirmed: .*NOT confirmed.*returned false/);
    } finally {
      await liar.close();
    }
  });

  it("shows a new request live, and the view follows it to its settled batch without a reload", async () => {
    await page.click('[data-testid="nav-requests"]');
    await page.waitForSelector('#view[data-route="requests"] [data-testid="requests-table"]');
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    const signed = await sign(SAMPLES[3]);
    const id = await send(signed);
    await page.waitForSelector(`[data-testid="live-events"] li[data-event-type="request.accepted"] a[href="#/requests/${id}"]`, { timeout: 30_000 });
    await page.waitForSelector(`[data-testid="requests-table"] [data-request-id="${id}"]`, { timeout: 30_000 });
    await page.waitForSelector('[data-testid="live-events"] li[data-event-type="batch.settled"]', { timeout: 150_000 });
    await page.waitForFunction((rid: string) => {
      const row = document.querySelector(`[data-testid="requests-table"] [data-request-id="${rid}"]`)?.closest("tr");
      return row?.textContent?.includes("settled") ?? false;
    }, { timeout: 30_000 }, id);
    // Still the same document: the row came from a live refresh, not a navigation.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).to.equal(1);
  });

  it("keeps the answer on the inference view and takes the screenshot (docs/explorer.png)", async () => {
    await page.evaluate((rid: string) => (location.hash = `#/requests/${rid}`), checkedRequest);
    await page.waitForSelector('#view[data-route="request"] [data-testid="check-result"][data-state="confirmed"]');
    await page.evaluate(() => window.scrollTo(0, 0));
    // Rewritten when missing or asked for: every run's picture differs (ports, times), and a test run should not dirty the work tree.
    const docs = path.join(REPO, "docs", "explorer.png");
    const file = process.env.FLAVUM_UPDATE_SCREENSHOT || !fs.existsSync(docs) ? docs : path.join(tmp, "explorer.png");
    await page.screenshot({ path: file });
    const png = fs.readFileSync(file);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).to.deep.equal([1200, 800]);
    expect(pageErrors, pageErrors.join("\n")).to.deep.equal([]);
    expect(foreignRequests, "the page must work offline").to.deep.equal([]);
  });
});
