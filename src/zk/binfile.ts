import fs from "fs";

/**
 * Section table of an iden3 binary file (ptau, r1cs, zkey, wtns all share it): 4-byte magic,
 * u32 version, u32 section count, then sections of (u32 type, u64 size, data). Reading only the
 * table and the small header sections lets Flavum inspect multi-gigabyte files instantly and without
 * starting snarkjs's curve workers.
 */
export interface BinFile {
  sections: Map<number, { pos: number; size: number }>;
  /** Reads `len` bytes at `pos`, failing with a message naming the file if it is cut short. */
  read(pos: number, len: number): Buffer;
  section(type: number): Buffer;
}

export function withBinFile<T>(file: string, magic: string, fn: (bf: BinFile) => T): T {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const read = (pos: number, len: number): Buffer => {
      const buf = Buffer.alloc(len);
      if (pos + len > size || fs.readSync(fd, buf, 0, len, pos) !== len) {
        throw new Error(`${file} is truncated (${size} bytes); delete it and generate it again`);
      }
      return buf;
    };
    const head = read(0, 12);
    if (head.toString("latin1", 0, 4) !== magic) {
      throw new Error(`${file} is not a ${magic} file (its first bytes are not "${magic}")`);
    }
    const sections = new Map<number, { pos: number; size: number }>();
    let pos = 12;
    for (let i = 0, n = head.readUInt32LE(8); i < n; i++) {
      const sh = read(pos, 12);
      const len = Number(sh.readBigUInt64LE(4));
      sections.set(sh.readUInt32LE(0), { pos: pos + 12, size: len });
      pos += 12 + len;
    }
    const section = (type: number): Buffer => {
      const s = sections.get(type);
      if (!s) throw new Error(`${file} has no section ${type}; it is not a valid ${magic} file`);
      return read(s.pos, s.size);
    };
    return fn({ sections, read, section });
  } finally {
    fs.closeSync(fd);
  }
}

/** A little-endian field element of `n8` bytes starting at `pos`. */
export function readLE(buf: Buffer, pos: number, n8: number): bigint {
  let v = 0n;
  for (let i = n8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[pos + i]);
  return v;
}

/** BN254's scalar field r (circuits' prime) and base field q (ptau header's prime). */
export const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
