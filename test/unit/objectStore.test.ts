import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ObjectStore } from "../../src/repos/objectStore";

describe("content-addressed object store", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-objects-"));
  const store = new ObjectStore(root);

  it("stores by content hash, idempotently, and returns the same bytes", () => {
    const a = store.putJson({ w: [1n, -2n] });
    expect(a).to.match(/^[0-9a-f]{64}$/);
    expect(store.putJson({ w: [1n, -2n] })).to.equal(a);
    expect(store.getJson<{ w: string[] }>(a).w).to.deep.equal(["1", "-2"]);
  });

  it("refuses a corrupted object and names it", () => {
    const h = store.put("weights");
    fs.writeFileSync(path.join(root, h.slice(0, 2), h.slice(2)), "tampered");
    expect(() => store.get(h)).to.throw(/is corrupt/);
  });

  it("maps on-chain commitments to the objects that open them", () => {
    const h = store.put("model");
    store.bind(123n, h);
    expect(store.resolve(123n)).to.equal(h);
    expect(() => store.resolve(124n)).to.throw(/no local object opens commitment 0x7c/);
    expect(() => store.get("nothex")).to.throw(/is not an object id/);
  });
});
