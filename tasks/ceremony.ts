/**
 * `ceremony:*`: the multi-party phase 2 of one circuit (src/zk/ceremony.ts). Zkeys travel as files
 * or through the object store, whose ids are the files' sha256.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { task, types } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { intArg } from "./args";
import { InputError } from "../src/errors";
import {
  beaconFromBlock, beaconFromValue, BlockSource, ceremonyDir, checkAnnouncedBlock, contribute, contributeInFolder, DEFAULT_ITERATIONS_EXP,
  finalizeCeremony, importContribution, initCeremony, readTranscript, verifyCeremony,
} from "../src/zk/ceremony";
import { resolveCeremonyTarget } from "../src/zk/ceremonyTarget";
import { LOCAL_NETWORKS } from "../src/zk/setupPolicy";
import { ObjectStore } from "../src/repos/objectStore";

type CircuitArgs = { circuit?: string; model?: string; batch?: string; ptau?: string };

const circuitParams = (t: any) =>
  t.addOptionalParam("circuit", "Circuit build folder: a path, or relative to build/ (e.g. models/<name>.batch-16, training/<spec id>/merge4)")
    .addOptionalParam("model", "With --batch: the batch circuit of this compiled model")
    .addOptionalParam("batch", "Batch size of --model's batch circuit")
    .addOptionalParam("ptau", "The ceremony's powers of tau, if not where the transcript says (found by blake2b otherwise)");

const target = (a: CircuitArgs) =>
  resolveCeremonyTarget({ circuit: a.circuit, model: a.model, batch: a.batch === undefined ? undefined : intArg("batch", a.batch, { min: 1 }) }, userPath);

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
/** snarkjs prints hashes as 4 lines of 4 words; one line of 16 words is easier to compare by eye. */
const words = (hex: string) => hex.match(/.{8}/g)!.join(" ");

/** A zkey named by path, or by object id (64 hex digits) in the local object store. */
function zkeyInput(flag: string, v: string): { file: string; cleanup?: () => void } {
  const file = userPath(v);
  if (fs.existsSync(file)) return { file };
  if (/^[0-9a-f]{64}$/.test(v)) {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flavum-zkey-")), `${v}.zkey`);
    fs.writeFileSync(tmp, new ObjectStore().get(v));
    return { file: tmp, cleanup: () => fs.rmSync(path.dirname(tmp), { recursive: true, force: true }) };
  }
  throw new InputError(`--${flag} ${v}: no such file, and not an object id (64 hex digits)`);
}

async function blockSource(hre: any): Promise<BlockSource> {
  const p = hre.network.provider;
  const num = (v: string) => Number(BigInt(v));
  return {
    network: hre.network.name,
    chainId: BigInt(await p.request({ method: "eth_chainId" })).toString(),
    head: async () => num(await p.request({ method: "eth_blockNumber" })),
    block: async (n: number) => {
      const b = await p.request({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] });
      return b ? { hash: b.hash, timestamp: num(b.timestamp) } : undefined;
    },
  };
}

circuitParams(
  task("ceremony:init", "Start a multi-party phase 2 for a circuit: the initial key (no secret) and the transcript, in <folder>/ceremony/")
    .addOptionalParam("beaconBlock", "Announce now the block whose hash will be the beacon (must be in the future on --network)")
    .addFlag("viaStore", "Also put the initial key in the object store and print its id"),
).setAction(
  flavumAction(async (a: CircuitArgs & { beaconBlock?: string; viaStore: boolean }, hre) => {
    const t = target(a);
    let beacon;
    if (a.beaconBlock !== undefined) {
      const block = intArg("beacon-block", a.beaconBlock, { min: 1 });
      const chain = await blockSource(hre);
      const head = await chain.head();
      if (block <= head) throw new InputError(`--beacon-block ${block} is not in the future: ${chain.network} is at block ${head}`);
      beacon = { kind: "block" as const, network: chain.network, chainId: chain.chainId, block, headAtAnnouncement: head, announcedAt: new Date().toISOString() };
    }
    const r = await initCeremony(t.dir, { ptau: a.ptau && userPath(a.ptau), beacon, progress });
    const p = r.transcript.ptau;
    const id = a.viaStore ? new ObjectStore().put(fs.readFileSync(r.zkey)) : undefined;
    console.log(
      [
        `ceremony started in ${ceremonyDir(t.dir)}`,
        `  circuit   ${r.transcript.circuit.base}: ${r.transcript.circuit.constraints} constraints`,
        `  ptau      ${p.file} (2^${p.power}, ${p.hermezPower !== null ? "the pinned Hermez file" : "NOT a pinned Hermez file: keys refused off hardhat/localhost"})`,
        `  initial   ${r.zkey} (${mb(r.entry.bytes)}, sha256 ${r.entry.sha256})${id ? `; object id ${id}` : ""}`,
        beacon
          ? `  beacon    the hash of block ${beacon.block} of ${beacon.network} (now at ${beacon.headAtAnnouncement}); publish the transcript before that block`
          : `  beacon    none announced: finalize with a block mined after the last contribution`,
        "",
        "Send the initial key to the first contributor, who runs (on their machine):",
        `  npx hardhat ceremony:contribute --in ${id ?? path.basename(r.zkey)} --out contribution1.zkey --name "<their name>"${id ? " --via-store" : ""}`,
        "and sends back contribution1.zkey (or its object id) and the hash it prints. Then run",
        `  npx hardhat ceremony:import ${t.args} --zkey contribution1.zkey`,
        "and send the imported key to the next contributor the same way.",
      ].join("\n"),
    );
  }),
);

circuitParams(
  task("ceremony:contribute", "Add one contribution: --in <zkey> --out <zkey> (anywhere, with just the file), or in a circuit's ceremony folder")
    .addParam("name", "Your name, as the transcript will show it")
    .addOptionalParam("in", "The key to extend (a file, or an object id from the object store)")
    .addOptionalParam("out", "Where to write your key (to send back)")
    .addFlag("viaStore", "Put your key in the object store and print its id")
    .addFlag("json", "Print JSON"),
).setAction(
  flavumAction(async (a: CircuitArgs & { name: string; in?: string; out?: string; viaStore: boolean; json: boolean }) => {
    let c: { contributionHash: string; sha256: string; bytes: number; ms: number; index: number; previous: string[] };
    let out: string | undefined;
    let id: string | undefined;
    if (a.in !== undefined) {
      if (a.circuit || a.model) throw new InputError("give --in/--out (a key file) or --circuit/--model (a ceremony folder), not both");
      if (!a.out && !a.viaStore) throw new InputError("--out is required (or --via-store): where to write your key");
      const input = zkeyInput("in", a.in);
      try {
        out = a.out ? userPath(a.out) : path.join(os.tmpdir(), `flavum-contribution-${process.pid}.zkey`);
        c = await contribute(input.file, out, a.name, { progress });
        if (a.viaStore) id = new ObjectStore().put(fs.readFileSync(out));
        if (!a.out) {
          fs.rmSync(out, { force: true });
          out = undefined;
        }
      } finally {
        input.cleanup?.();
      }
    } else {
      c = await contributeInFolder(target(a).dir, a.name, { ptau: a.ptau && userPath(a.ptau), progress });
    }
    if (a.json) return console.log(JSON.stringify({ index: c.index, contributionHash: c.contributionHash, sha256: c.sha256, out, objectId: id }));
    console.log(
      [
        `contribution #${c.index} by ${a.name} (after ${c.previous.join(", ") || "the initial key"}), ${(c.ms / 1000).toFixed(1)} s`,
        `  contribution hash ${words(c.contributionHash)}`,
        out ? `  written to ${out} (${mb(c.bytes)}, sha256 ${c.sha256})` : a.in === undefined ? "  recorded in the ceremony's transcript" : "",
        id ? `  object id ${id}` : "",
        "Keep the contribution hash: `ceremony:verify` lists the hashes of the final key's contributions, and yours must be among them.",
        "Your entropy was random and existed only in this process; nothing secret was written.",
      ].filter(Boolean).join("\n"),
    );
  }),
);

circuitParams(
  task("ceremony:import", "Take a contributor's key into the ceremony, after checking it extends the latest key and verifies")
    .addParam("zkey", "The returned key (a file, or an object id from the object store)"),
).setAction(
  flavumAction(async (a: CircuitArgs & { zkey: string }) => {
    const t = target(a);
    const input = zkeyInput("zkey", a.zkey);
    try {
      const r = await importContribution(t.dir, input.file, { ptau: a.ptau && userPath(a.ptau), progress });
      console.log(
        `contribution #${r.entry.index} by ${r.entry.name} verified in ${(r.verifyMs / 1000).toFixed(1)} s and recorded as ${path.join(ceremonyDir(t.dir), r.entry.file)}\n` +
          `  contribution hash ${words(r.entry.contributionHash ?? "")}\n` +
          `Next contributor: ceremony:contribute --in ${r.entry.file} ...; or finish with ceremony:finalize ${t.args} --beacon-block <n>`,
      );
    } finally {
      input.cleanup?.();
    }
  }),
);

circuitParams(
  task("ceremony:finalize", "Apply the beacon, verify the final key against the r1cs and the ptau, and install it with its verifying key and Solidity verifier")
    .addOptionalParam("beacon", "The beacon as hex (a value fixed before it was known, e.g. a drand round)")
    .addOptionalParam("beaconBlock", "Use the hash of this block of --network as the beacon (refused until it exists)")
    .addOptionalParam("iterationsExp", "The beacon is hashed 2^this times (10..63)", DEFAULT_ITERATIONS_EXP, types.int),
).setAction(
  flavumAction(async (a: CircuitArgs & { beacon?: string; beaconBlock?: string; iterationsExp: number }, hre) => {
    const t = target(a);
    if ((a.beacon === undefined) === (a.beaconBlock === undefined)) throw new InputError("give exactly one of --beacon <hex> and --beacon-block <n>");
    const transcript = readTranscript(t.dir);
    let beacon;
    if (a.beaconBlock !== undefined) {
      const n = intArg("beacon-block", a.beaconBlock, { min: 1 });
      const chain = await blockSource(hre);
      checkAnnouncedBlock(transcript, chain.chainId, n);
      const head = await chain.head();
      // A local chain only advances when asked: mine up to the block instead of waiting forever.
      if (n > head && LOCAL_NETWORKS.includes(hre.network.name)) {
        await hre.network.provider.request({ method: "hardhat_mine", params: [`0x${(n - head).toString(16)}`] });
        progress(`mined ${n - head} block(s) on ${hre.network.name} to reach the beacon block ${n}`);
      }
      beacon = await beaconFromBlock(transcript, chain, n, a.iterationsExp);
    } else beacon = beaconFromValue(transcript, a.beacon!, a.iterationsExp);
    const f = await finalizeCeremony(t.dir, beacon, { ptau: a.ptau && userPath(a.ptau), verifier: t.verifier, progress });
    console.log(
      [
        `ceremony finalized: ${f.contributors} contributor(s) and the beacon ${beacon.kind === "block" ? `(block ${beacon.block} of ${beacon.network}) ` : ""}${beacon.value}`,
        `  final key verified against the r1cs and the ptau in ${(f.verifyMs / 1000).toFixed(1)} s`,
        `  installed ${f.zkey} (verifying key ${f.vkHash.slice(0, 16)}…); the previous key is kept in ${path.join(ceremonyDir(t.dir), f.replaced ?? "")}`,
        t.verifier ? `  verifier ${t.verifier.contract}: ${f.verifierWritten ? "regenerated" : "unchanged"} (${t.verifier.file})` : "  no Solidity verifier is known for this folder; none written",
        `Publish ${ceremonyDir(t.dir)} (transcript.json and the zkeys) so anyone can run ceremony:verify.`,
      ].join("\n"),
    );
  }),
);

circuitParams(task("ceremony:verify", "Re-check a ceremony: every key of the chain against the r1cs and the ptau, and every recorded hash").addFlag("json", "Print JSON")).setAction(
  flavumAction(async (a: CircuitArgs & { json: boolean }, hre) => {
    const t = target(a);
    const transcript = readTranscript(t.dir);
    // The block can be re-read only on the chain it came from.
    const chain = transcript.beacon?.network === hre.network.name && hre.network.name !== "hardhat" ? await blockSource(hre) : undefined;
    const r = await verifyCeremony(t.dir, { ptau: a.ptau && userPath(a.ptau), progress, chain });
    if (!r.ok) process.exitCode = 1;
    if (a.json) return console.log(JSON.stringify(r));
    for (const c of r.chain) console.log(`  ${c.ok ? "ok  " : "BAD "} #${c.index} ${c.kind.padEnd(12)} ${c.name}${c.contributionHash ? `\n         ${words(c.contributionHash)}` : ""}`);
    console.log(r.ok ? `OK: ${r.contributors} contributor(s)${r.finalized ? ", finalized" : ", not finalized yet"}` : `NOT OK:\n${r.problems.map((p) => `  - ${p}`).join("\n")}`);
  }),
);
