/**
 * The multi-party phase 2 (src/zk/ceremony.ts) on the Multiplier fixture with a real development
 * ptau, and the rule that keeps development and one-party keys off real networks
 * (src/zk/setupPolicy.ts).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { FlavumError } from "../../src/errors";
import { buildCircuitKeys, CircuitKeys, prove, shutdown, verify, wasmPath } from "../../src/zk";
import {
  beaconFromBlock, beaconFromValue, BlockSource, contribute, contributeInFolder, finalizeCeremony, importContribution,
  initCeremony, readTranscript, Transcript, verifyCeremony,
} from "../../src/zk/ceremony";
import { blake2b512, HERMEZ_BLAKE2B } from "../../src/zk/hermez";
import { assertSetupAllowed, pinnedPower, setupProblems } from "../../src/zk/setupPolicy";
import { REPO } from "../helpers/circuit";
import { rejection as anyRejection } from "../helpers/rejection";

const PTAU = path.resolve(REPO, "..", "shared", "ptau", "dev_pot12_final.ptau");
const SOURCE = fs.readFileSync(path.join(REPO, "test", "fixtures-zk", "Multiplier.circom"), "utf8");
const BASE = "multiplier";

/** The FlavumError a promise rejects with; any other error is rethrown, a resolve fails the test. */
async function rejection(p: Promise<unknown>): Promise<FlavumError> {
  const e = await anyRejection(p);
  if (e instanceof FlavumError) return e;
  throw e;
}

const readKeys = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "keys.json"), "utf8")) as CircuitKeys;

/** A build folder of the circuit without its ceremony: what a fresh `model:compile` leaves. */
function copyBuild(from: string, to: string): string {
  fs.mkdirSync(to, { recursive: true });
  for (const f of ["circuit", "circuit.zkey", "verification_key.json", "keys.json"]) fs.cpSync(path.join(from, f), path.join(to, f), { recursive: true });
  return to;
}

describe("zk ceremony", function () {
  this.timeout(10 * 60_000);
  let tmp: string;
  let single: string; // the one-party build
  let dir: string; // the same circuit after a 3-party ceremony
  let verifierFile: string;

  before(async function () {
    if (!fs.existsSync(PTAU)) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-ceremony-"));
    single = path.join(tmp, "single");
    await buildCircuitKeys({ source: SOURCE, base: BASE, dir: single, publicSignals: 1, ptau: PTAU });
    dir = copyBuild(single, path.join(tmp, "ceremony3"));
    verifierFile = path.join(tmp, "verifiers", "MultiplierCeremonyVerifier.sol");
  });
  after(async () => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    await shutdown();
  });

  it("runs a 3-party ceremony with a beacon and verifies its transcript", async () => {
    const init = await initCeremony(dir, { ptau: PTAU });
    expect(init.transcript.ptau.hermezPower).to.equal(null);
    expect(init.transcript.ptau.blake2b).to.equal(await blake2b512(PTAU));
    // Alice works on another machine with only the zkey file.
    const alice = await contribute(init.zkey, path.join(tmp, "alice.zkey"), "alice");
    expect(alice.index).to.equal(1);
    expect(alice.contributionHash).to.match(/^[0-9a-f]{128}$/);
    const a = await importContribution(dir, path.join(tmp, "alice.zkey"));
    expect(a.entry.contributionHash).to.equal(alice.contributionHash);
    // Bob contributes in the ceremony folder itself.
    const bob = await contributeInFolder(dir, "bob");
    expect(bob.previous).to.deep.equal(["alice"]);
    const carol = await contribute(path.join(dir, "ceremony", bob.entry.file), path.join(tmp, "carol.zkey"), "carol");
    await importContribution(dir, path.join(tmp, "carol.zkey"));

    const before = readKeys(dir).vkHash;
    const f = await finalizeCeremony(dir, beaconFromValue(readTranscript(dir), "ab".repeat(32)), {
      verifier: { contract: "MultiplierCeremonyVerifier", file: verifierFile, source: "test", regenerate: "test" },
    });
    expect(f.contributors).to.equal(3);
    expect(f.vkHash).to.not.equal(before);
    expect(f.verifierWritten).to.equal(true);
    expect(fs.readFileSync(verifierFile, "utf8")).to.contain("contract MultiplierCeremonyVerifier");

    const keys = readKeys(dir);
    expect(keys.vkHash).to.equal(f.vkHash);
    expect(keys.setup).to.deep.include({ kind: "ceremony", contributors: 3 });
    expect(fs.existsSync(path.join(dir, "ceremony", "replaced", "circuit.zkey"))).to.equal(true);
    const t = readTranscript(dir);
    expect(t.chain.map((e) => e.kind)).to.deep.equal(["initial", "contribution", "contribution", "contribution", "beacon"]);
    expect(t.chain[3].contributionHash).to.equal(carol.contributionHash);

    const r = await verifyCeremony(dir, { ptau: PTAU });
    expect(r.problems).to.deep.equal([]);
    expect(r.ok).to.equal(true);
    expect(r.contributors).to.equal(3);
    // A finished ceremony takes nothing more.
    expect((await rejection(contributeInFolder(dir, "mallory"))).code).to.equal("CEREMONY_FINALIZED");
  });

  it("makes a key whose proofs verify with its verifying key, unlike proofs from the initial or the replaced key", async () => {
    const wasm = wasmPath(dir, BASE);
    const vkey = path.join(dir, "verification_key.json");
    const good = await prove(wasm, path.join(dir, "circuit.zkey"), { a: 3, b: 11 });
    expect(good.publicSignals).to.deep.equal(["33"]);
    expect(await verify(vkey, good.publicSignals, good.proof)).to.equal(true);
    for (const other of ["ceremony/0000_initial.zkey", "ceremony/replaced/circuit.zkey"]) {
      const p = await prove(wasm, path.join(dir, other), { a: 3, b: 11 });
      expect(await verify(vkey, p.publicSignals, p.proof), other).to.equal(false);
    }
  });

  it("keeps the ceremony and its setup record when an unchanged circuit is rebuilt", async () => {
    const rebuilt = path.join(tmp, "rebuilt");
    const k = await buildCircuitKeys({ source: SOURCE, base: BASE, dir: rebuilt, previousDir: dir, publicSignals: 1, ptau: PTAU });
    expect(k.reused).to.equal(true);
    expect(k.setup?.kind).to.equal("ceremony");
    expect((await verifyCeremony(rebuilt, { ptau: PTAU })).ok).to.equal(true);
  });

  it("refuses to import a zkey that does not extend the latest key", async () => {
    const d = copyBuild(single, path.join(tmp, "fork"));
    const init = await initCeremony(d, { ptau: PTAU });
    await contribute(init.zkey, path.join(tmp, "x.zkey"), "x");
    await importContribution(d, path.join(tmp, "x.zkey"));
    // y was made from the initial key, not from x: it would drop x's contribution.
    await contribute(init.zkey, path.join(tmp, "y.zkey"), "y");
    const e = await rejection(importContribution(d, path.join(tmp, "y.zkey")));
    expect(e.code).to.equal("NOT_AN_EXTENSION");
    expect(e.message).to.match(/does not extend the ceremony's latest key .*"x"/);
    // A zkey of another circuit is refused too.
    const other = await rejection(importContribution(d, path.join(single, "circuit.zkey")));
    expect(other.code).to.equal("NOT_AN_EXTENSION");
    // One contributor is too few for finalize's warning, and no contributor at all is refused.
    const none = copyBuild(single, path.join(tmp, "none"));
    await initCeremony(none, { ptau: PTAU });
    expect((await rejection(finalizeCeremony(none, beaconFromValue(readTranscript(none), "01")))).code).to.equal("NO_CONTRIBUTIONS");
  });

  it("ceremony verification catches an edited transcript", async () => {
    const d = path.join(tmp, "edited");
    fs.cpSync(dir, d, { recursive: true });
    const file = path.join(d, "ceremony", "transcript.json");
    const t = JSON.parse(fs.readFileSync(file, "utf8")) as Transcript;
    t.chain[2].contributionHash = "00".repeat(64);
    fs.writeFileSync(file, JSON.stringify(t, null, 2));
    const r = await verifyCeremony(d, { ptau: PTAU });
    expect(r.ok).to.equal(false);
    expect(r.problems.join("\n")).to.match(/#2 "bob".*contribution hash/);
    expect(r.problems.join("\n")).to.match(/keys\.json does not record this transcript/);
    expect(r.chain.filter((c) => !c.ok).map((c) => c.index)).to.deep.equal([2]);
  });

  it("ceremony verification catches a zkey that does not extend the previous one, even with matching hashes", async () => {
    const d = path.join(tmp, "swapped");
    fs.cpSync(dir, d, { recursive: true });
    // Two contributions made from the initial key, posing as the chain's #2: the transcript is
    // rewritten to match its sha256 and name, as someone replacing bob's key would.
    const t = readTranscript(d);
    await contribute(path.join(d, "ceremony", t.chain[0].file), path.join(tmp, "m1.zkey"), "alice");
    const m2 = await contribute(path.join(tmp, "m1.zkey"), path.join(d, "ceremony", t.chain[2].file), "bob");
    t.chain[2].sha256 = m2.sha256;
    t.chain[2].contributionHash = m2.contributionHash;
    fs.writeFileSync(path.join(d, "ceremony", "transcript.json"), JSON.stringify(t, null, 2));
    const r = await verifyCeremony(d, { ptau: PTAU });
    expect(r.ok).to.equal(false);
    expect(r.problems.join("\n")).to.match(/#2 "bob" .* does not extend #1/);
    expect(r.problems.join("\n")).to.match(/#3 "carol" .* does not extend #2/);
  });

  describe("beacon from a block", () => {
    const chain = (head: number, time = Date.now() / 1000 + 60): BlockSource => ({
      network: "testchain", chainId: "31337",
      head: async () => head,
      block: async (n) => (n <= head ? { hash: "0x" + n.toString(16).padStart(64, "0"), timestamp: time } : undefined),
    });
    const t = (planned?: number): Transcript => ({
      chain: [{ at: new Date().toISOString() }],
      plannedBeacon: planned === undefined ? undefined : { kind: "block", network: "testchain", chainId: "31337", block: planned, headAtAnnouncement: 1, announcedAt: "" },
    }) as unknown as Transcript;

    it("refuses a block that does not exist yet and says how long to wait", async () => {
      const e = await rejection(beaconFromBlock(t(), chain(5), 8));
      expect(e.code).to.equal("BEACON_NOT_YET");
      expect(e.message).to.contain("wait for 3 more block(s)");
    });
    it("takes the announced block's hash, and refuses another block", async () => {
      const b = await beaconFromBlock(t(8), chain(9), 8);
      expect(b).to.deep.include({ kind: "block", block: 8, announced: true, value: "8".padStart(64, "0") });
      expect((await rejection(beaconFromBlock(t(8), chain(9), 9))).code).to.equal("WRONG_BEACON");
      expect(() => beaconFromValue(t(8), "ab")).to.throw(/announced block 8/);
    });
    it("refuses an unannounced block mined before the last contribution", async () => {
      expect((await rejection(beaconFromBlock(t(), chain(9, Date.now() / 1000 - 3600), 9))).code).to.equal("BEACON_TOO_EARLY");
    });
  });

  describe("setup policy", () => {
    const what = "the test circuit";
    it("refuses development powers of tau and one-party keys on networks other than hardhat/localhost", async () => {
      for (const network of ["remote", "sepolia"]) {
        const e = await rejection(assertSetupAllowed({ network, keys: readKeys(single), dir: single, what }));
        expect(e.code).to.equal("INSECURE_SETUP");
        expect(e.message).to.contain(`the test circuit (${single}) cannot be used on network "${network}"`);
        expect(e.message).to.match(/one-party setup.*ceremony:init/);
        expect(e.message).to.match(/not a pinned Hermez file.*ptau:fetch/);
        expect(e.message).to.contain("--insecure-dev-setup");
      }
      // The ptau's hash was worked out once and kept for the next registration.
      expect(readKeys(single).ptau.blake2b).to.equal(await blake2b512(PTAU));
    });
    it("accepts anything on hardhat, localhost and localhost2 (development chains), and with --insecure-dev-setup", async () => {
      for (const network of ["hardhat", "localhost", "localhost2"]) await assertSetupAllowed({ network, keys: readKeys(single), what });
      const warnings: string[] = [];
      await assertSetupAllowed({ network: "sepolia", keys: readKeys(single), what, insecureDevSetup: true, progress: (m) => warnings.push(m) });
      expect(warnings.join("\n")).to.match(/--insecure-dev-setup.*forgeable/);
    });
    it("accepts a ceremony key on a pinned ptau, and only then", async () => {
      expect(pinnedPower(await blake2b512(PTAU))).to.equal(null);
      expect(pinnedPower(HERMEZ_BLAKE2B[12])).to.equal(12);
      const problems = await setupProblems({ keys: readKeys(dir), what });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.contain("not a pinned Hermez file");
      // Tests cannot hold the real Hermez bytes: the dev file is declared pinned instead.
      const pinned = { 12: await blake2b512(PTAU) };
      await assertSetupAllowed({ network: "sepolia", keys: readKeys(dir), dir, what, pinned });
      await assertSetupAllowed({ network: "remote", keys: readKeys(dir), dir, what, pinned });
      // A pinned ptau does not make a one-party setup acceptable, nor a one-person ceremony.
      const one = await rejection(assertSetupAllowed({ network: "sepolia", keys: readKeys(single), what, pinned }));
      expect(one.message).to.contain("one-party setup");
      const k = readKeys(dir);
      if (k.setup?.kind !== "ceremony") throw new Error("expected ceremony keys");
      const lone = await rejection(assertSetupAllowed({ network: "sepolia", keys: { ...k, setup: { ...k.setup, contributors: 1 } }, what, pinned }));
      expect(lone.message).to.contain("1 contributor(s); at least 2");
      // keys.json claiming a ceremony for another key is not taken at its word.
      const swapped = await rejection(assertSetupAllowed({ network: "sepolia", keys: { ...k, vkHash: readKeys(single).vkHash }, what, pinned }));
      expect(swapped.message).to.contain("is not the one its ceremony produced");
    });
  });
});
