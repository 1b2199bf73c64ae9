/**
 * Data-point operations signed by their owner and relayed by the node, with real state proofs: the
 * node checks and relays a transfer and an exit, its pipeline proves the state batches, and the API
 * shows the new owner and the exit. Through the contract directly: a forged, expired or replayed
 * signature reverts; a valid signature of someone who does not own the data point is queued but the
 * state circuit refuses it, so the node's checks are a convenience, not the guard.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { parseEther, type Signer } from "ethers";
import { startNode, RunningNode } from "../../src/node/node";
import { DataPointOpKind, dataPointOpTypedData, stateDomain } from "../../src/protocol/signedRequest";
import { compileRollupModel, copyStore } from "../helpers/rollup";
import { quantizedSample, stateRollup } from "../helpers/state";

describe("sequencer node: data-point operations signed by their owners", function () {
  before(compileRollupModel);
  let node: RunningNode | undefined;
  after(async () => node?.stop());

  const post = async (url: string, body: unknown) => {
    const res = await fetch(url + "/api/datapoints/ops", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("relays signed transfers and exits, proves them, and the circuit refuses a signer who is not the owner", async () => {
    const f = await loadFixture(stateRollup);
    const state = f.s.state;
    node = await startNode(hre, { port: 0, store: copyStore(f.store, "node-dp"), addresses: f.d.addresses, batchTimeoutMs: 500, pollMs: 100 });
    const url = node.url;
    const [, alice, bob, carol] = await hre.ethers.getSigners();
    const { chainId } = await hre.ethers.provider.getNetwork();
    const domain = stateDomain(chainId, await state.getAddress());
    const later = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const sign = async (who: Signer, op: DataPointOpKind, m: { dpId: bigint; to?: string; nonce: bigint; deadline?: bigint }) => {
      const msg = { ...m, deadline: m.deadline ?? later };
      const { types, message } = dataPointOpTypedData(op, msg);
      return { op, owner: await who.getAddress(), dpId: String(m.dpId), ...(m.to && { to: m.to }), nonce: String(m.nonce), deadline: String(msg.deadline), signature: await who.signTypedData(domain, types, message) };
    };
    const settledOps = async () => {
      for (let i = 0; i < 600; i++) {
        const [, , head, tail] = await state.stateInfo();
        if (head === tail) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error("the node did not prove the queued state operations");
    };
    const owner = async (dp: bigint) => (await (await fetch(`${url}/api/datapoints/${dp}`)).json() as any).owner?.toLowerCase();

    const { values, bits } = quantizedSample(0);
    await (await state.connect(alice).deposit(values, bits, false, { value: parseEther("0.01") })).wait();
    await settledOps();
    expect(await owner(1n)).to.equal(alice.address.toLowerCase());

    // A transfer alice signed, relayed by the node (which pays the gas) and proven by its pipeline.
    const transfer = await sign(alice, "transfer", { dpId: 1n, to: bob.address, nonce: 1n });
    const relayed = await post(url, transfer);
    expect(relayed.status, JSON.stringify(relayed.body)).to.equal(200);
    await settledOps();
    expect(await owner(1n)).to.equal(bob.address.toLowerCase());

    // Refused by the node before any gas is spent, each naming what was wrong.
    expect((await post(url, transfer)).body.error.message).to.match(/already used nonce 1/);
    const byCarol = await sign(carol, "transfer", { dpId: 1n, to: carol.address, nonce: 1n });
    expect((await post(url, byCarol)).body.error.message).to.match(/does not own data point 1/);
    expect((await post(url, { ...byCarol, owner: bob.address })).body.error.message).to.match(/signature is by .* not by the owner/);
    expect((await post(url, await sign(bob, "exit", { dpId: 1n, nonce: 2n, deadline: 1n }))).status).to.equal(422);
    expect((await post(url, { ...byCarol, op: "burn" })).body.error.message).to.match(/op must be one of transfer, exit/);
    expect((await post(url, { ...byCarol, to: "0x0" })).status).to.equal(422);

    // The contract is the guard: forged, expired and replayed signatures revert there too.
    await expect(state.requestTransferBySig(bob.address, 1n, carol.address, 5n, later, byCarol.signature))
      .to.be.revertedWithCustomError(state, "FlavumInvalidSignature").withArgs(bob.address);
    await expect(state.requestTransferBySig(alice.address, 1n, bob.address, 1n, later, transfer.signature))
      .to.be.revertedWithCustomError(state, "FlavumNonceUsed").withArgs(alice.address, 1n);
    const expired = await sign(bob, "exit", { dpId: 1n, nonce: 3n, deadline: 1n });
    await expect(state.requestExitBySig(bob.address, 1n, 3n, 1n, expired.signature)).to.be.revertedWithCustomError(state, "FlavumSignatureExpired").withArgs(1n);
    // And the circuit: carol's own valid signature, relayed straight to the contract, is queued but refused.
    await expect(state.requestTransferBySig(carol.address, 1n, carol.address, 1n, later, byCarol.signature)).to.emit(state, "SignedRequestRelayed");
    await settledOps();
    expect(await owner(1n)).to.equal(bob.address.toLowerCase());
    expect(await state.queryFilter(state.filters.PriorityOpRefused())).to.have.length(1);

    // bob withdraws through the node: the exit is proven and the data point leaves the rollup.
    const exit = await post(url, await sign(bob, "exit", { dpId: 1n, nonce: 4n }));
    expect(exit.status, JSON.stringify(exit.body)).to.equal(200);
    await settledOps();
    const shown = (await (await fetch(`${url}/api/datapoints/1`)).json()) as any;
    expect(shown.location).to.equal("exiting");
    expect(await state.nonceUsed(bob.address, 4n)).to.equal(true);
  });
});
