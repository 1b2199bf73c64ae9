/**
 * RootAnchor: the Mina zkApp that anchors the rollup's chain of roots (see ../anchor.ts for what an
 * anchor guarantees and what it does not).
 *
 * On-chain state (5 of the 8 app-state fields):
 *   root       Field      the last anchored rollup root (a BN254 scalar: it fits one Pallas Field)
 *   batches    Field      how many batches are anchored
 *   sequencer  PublicKey  (2 fields) the only key whose signature `anchor` accepts
 *   digest     Field      d_0 = Poseidon(TAG, genesisRoot, sequencer.x, sequencer.isOdd),
 *                         d_{n+1} = Poseidon(d_n, n, oldRoot_n, newRoot_n, batchHash_n)
 *
 * `anchor(oldRoot, newRoot, batchHash, signature)` requires root == oldRoot (an account precondition,
 * checked by the ledger when the transaction is applied), verifies the sequencer's signature over
 * (TAG, zkApp address, n, oldRoot, newRoot, batchHash) — the address and n keep a signature from being
 * replayed on another deployment or at another height — then sets root := newRoot, batches := n + 1,
 * advances the digest and emits an `anchored` event with (n, oldRoot, newRoot, batchHash).
 *
 * Deployment fixes the sequencer key and the genesis root (in `init`, inside the signed deploy
 * update) and the permissions: state only by a proof of this verification key (so only `anchor`
 * changes it, never the zkApp key's signature), verification key, permissions, delegate, URI, token
 * symbol, timing and voting-for impossible to change afterwards; the deploy also requires the account
 * to be new, so it cannot be re-deployed over an existing anchor.
 *
 * o1js is loaded lazily (`loadO1js`) and the contract class is built after it loads
 * (`rootAnchorContract`), so importing this file costs nothing until Mina is used.
 */
import fs from "fs";
import os from "os";
import path from "path";
import type { DeployArgs, Provable, Field as FieldT, PublicKey as PublicKeyT, Signature as SignatureT, State as StateT } from "o1js";
import { FIELD_P as BN254_R } from "../../quant/fixed";

export type O1js = typeof import("o1js");

let o1jsModule: O1js | undefined;

/**
 * Loads o1js once. o1js is an ES module package that also ships a CommonJS build under its
 * `exports["."].node.require` condition (dist/node/index.cjs), so a plain `require` works from this
 * CommonJS project under ts-node, needs no dynamic-import workaround, and keeps the types of
 * `import("o1js")`. Its WebAssembly bindings are in the package: nothing is fetched at run time.
 */
export async function loadO1js(): Promise<O1js> {
  if (!o1jsModule) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const o1js = require("o1js") as O1js;
    checkFieldFits(o1js);
    o1jsModule = o1js;
  }
  return o1jsModule;
}

/**
 * A BN254 scalar (< r ≈ 2^253.6) fits one element of Mina's Pallas base field (p ≈ 2^254.9), so a
 * rollup root is anchored as itself, not reduced. Checked against the loaded library's modulus.
 */
function checkFieldFits(o1js: O1js): void {
  const p = o1js.Field.ORDER;
  if (!(BN254_R < p)) throw new Error(`o1js Field modulus ${p} is not above BN254's r ${BN254_R}: roots would not fit one Field`);
}

export { BN254_R };

/** The installed o1js's version (its package.json is not exported, so it is read beside the entry). */
export function o1jsVersion(): string {
  const pkg = path.join(path.dirname(require.resolve("o1js")), "..", "..", "package.json");
  return (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
}

/** Domain tag of the anchor's signatures and digest: the ASCII of "flavum-anchor-v1" as a number. */
export const ANCHOR_TAG = BigInt("0x" + Buffer.from("flavum-anchor-v1", "ascii").toString("hex"));

/** Where o1js keeps compiled keys (and its SRS): the OS temp dir, never the user's home cache. */
export function defaultCacheDir(): string {
  return path.join(os.tmpdir(), "flavum-o1js-cache");
}

/** What the sequencer signs for batch n: (TAG, zkApp address, n, oldRoot, newRoot, batchHash). */
export function anchorMessage(o1js: O1js, zkapp: PublicKeyT, n: FieldT, oldRoot: FieldT, newRoot: FieldT, batchHash: FieldT): FieldT[] {
  return [o1js.Field(ANCHOR_TAG), ...zkapp.toFields(), n, oldRoot, newRoot, batchHash];
}

/** d_0: commits to the genesis root and the sequencer key. */
export function genesisDigest(o1js: O1js, genesisRoot: FieldT, sequencer: PublicKeyT): FieldT {
  return o1js.Poseidon.hash([o1js.Field(ANCHOR_TAG), genesisRoot, ...sequencer.toFields()]);
}

/** d_{n+1} from d_n and batch n. */
export function nextDigest(o1js: O1js, digest: FieldT, n: FieldT, oldRoot: FieldT, newRoot: FieldT, batchHash: FieldT): FieldT {
  return o1js.Poseidon.hash([digest, n, oldRoot, newRoot, batchHash]);
}

function buildRootAnchor(o1js: O1js) {
  const { SmartContract, State, Field, PublicKey, Signature, Permissions, Struct, Bool, declareState, declareMethods } = o1js;

  class AnchoredEvent extends Struct({ index: Field, oldRoot: Field, newRoot: Field, batchHash: Field }) {}

  class RootAnchor extends SmartContract {
    // `declare`: the project compiles class fields with define semantics (ES2022), which would shadow
    // the accessors declareState puts on the prototype; the states are assigned in the constructor.
    declare root: StateT<FieldT>;
    declare batches: StateT<FieldT>;
    declare sequencer: StateT<PublicKeyT>;
    declare digest: StateT<FieldT>;

    events = { anchored: AnchoredEvent };

    /** Read by `init` during deployment: the sequencer key and the genesis root to fix. */
    genesis?: { sequencer: PublicKeyT; root: FieldT };

    constructor(address: PublicKeyT, tokenId?: FieldT) {
      super(address, tokenId);
      this.root = State<FieldT>();
      this.batches = State<FieldT>();
      this.sequencer = State<PublicKeyT>();
      this.digest = State<FieldT>();
    }

    async deploy(args?: DeployArgs): Promise<void> {
      await super.deploy(args);
      const impossible = Permissions.impossible();
      this.account.permissions.set({
        ...Permissions.default(),
        editState: Permissions.proof(),
        send: Permissions.proof(),
        receive: Permissions.none(),
        access: Permissions.none(),
        setDelegate: impossible,
        setPermissions: impossible,
        setVerificationKey: Permissions.VerificationKey.impossibleDuringCurrentVersion(),
        setZkappUri: impossible,
        editActionState: impossible,
        setTokenSymbol: impossible,
        incrementNonce: impossible,
        setVotingFor: impossible,
        setTiming: impossible,
      });
      this.account.isNew.requireEquals(Bool(true));
    }

    init(): void {
      super.init();
      const g = this.genesis;
      if (!g) throw new Error("RootAnchor: set `genesis` (sequencer key and genesis root) before deploying");
      this.root.set(g.root);
      this.batches.set(Field(0));
      this.sequencer.set(g.sequencer);
      this.digest.set(genesisDigest(o1js, g.root, g.sequencer));
    }

    async anchor(oldRoot: FieldT, newRoot: FieldT, batchHash: FieldT, signature: SignatureT): Promise<void> {
      this.root.requireEquals(oldRoot);
      const n = this.batches.getAndRequireEquals();
      const sequencer = this.sequencer.getAndRequireEquals();
      const digest = this.digest.getAndRequireEquals();
      signature
        .verify(sequencer, anchorMessage(o1js, this.address, n, oldRoot, newRoot, batchHash))
        .assertTrue("RootAnchor: the batch is not signed by the sequencer key");
      this.root.set(newRoot);
      this.batches.set(n.add(1));
      this.digest.set(nextDigest(o1js, digest, n, oldRoot, newRoot, batchHash));
      this.emitEvent("anchored", new AnchoredEvent({ index: n, oldRoot, newRoot, batchHash }));
    }
  }
  declareState(RootAnchor, { root: Field, batches: Field, sequencer: PublicKey, digest: Field });
  // o1js's own Provable<unknown>[] parameter type rejects Field under strictFunctionTypes: cast.
  declareMethods(RootAnchor, { anchor: [Field, Field, Field, Signature] as unknown as Provable<unknown>[] });
  return { RootAnchor, AnchoredEvent };
}

export type RootAnchorModule = ReturnType<typeof buildRootAnchor>;
export type RootAnchorClass = RootAnchorModule["RootAnchor"];
export type RootAnchorInstance = InstanceType<RootAnchorClass>;

let built: RootAnchorModule | undefined;

/** The RootAnchor contract class, built once per process (o1js keeps compiled keys on the class). */
export async function rootAnchorContract(): Promise<RootAnchorModule & { o1js: O1js }> {
  const o1js = await loadO1js();
  built ??= buildRootAnchor(o1js);
  return { ...built, o1js };
}
