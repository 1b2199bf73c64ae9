import { FlavumError } from "../errors";
import { size } from "./ir";

export function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** ONNX multidirectional (numpy) broadcasting; null when the shapes are incompatible. */
export function broadcastShape(a: number[], b: number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** For every flat index of `out`, the flat index of the (right-aligned, broadcast) source element. */
export function broadcastIndex(src: number[], out: number[]): Int32Array {
  const n = size(out);
  const res = new Int32Array(n);
  const srcStrides = stridesOf(src);
  const outStrides = stridesOf(out);
  const off = out.length - src.length;
  for (let i = 0; i < n; i++) {
    let rem = i;
    let j = 0;
    for (let d = 0; d < out.length; d++) {
      const c = Math.floor(rem / outStrides[d]);
      rem -= c * outStrides[d];
      const sd = d - off;
      if (sd >= 0 && src[sd] !== 1) j += c * srcStrides[sd];
    }
    res[i] = j;
  }
  return res;
}

export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new FlavumError(`${what}: axis ${axis} is out of range for rank ${rank}`, "BAD_MODEL");
  return a;
}

/**
 * Index plan of a matrix product: for output element i and reduction step k, the flat indices
 * a[i*K+k] and b[i*K+k] of the two factors. Covers numpy-style MatMul (batch broadcast, 1-D
 * promotion) and Gemm's transposes, so both ops lower through one routine.
 */
export interface ProductPlan {
  outShape: number[];
  K: number;
  a: Int32Array;
  b: Int32Array;
}

export function matmulPlan(aShape: number[], bShape: number[], what: string): ProductPlan {
  if (aShape.length === 0 || bShape.length === 0) throw new FlavumError(`${what}: MatMul of a scalar`, "BAD_MODEL");
  const a = aShape.length === 1 ? [1, aShape[0]] : aShape;
  const b = bShape.length === 1 ? [bShape[0], 1] : bShape;
  const M = a[a.length - 2];
  const K = a[a.length - 1];
  const N = b[b.length - 1];
  if (b[b.length - 2] !== K) {
    throw new FlavumError(`${what}: MatMul shapes [${aShape}] and [${bShape}] do not agree`, "BAD_MODEL");
  }
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const batch = broadcastShape(aBatch, bBatch);
  if (!batch) throw new FlavumError(`${what}: MatMul batch dims [${aBatch}] and [${bBatch}] do not broadcast`, "BAD_MODEL");
  const aB = broadcastIndex(aBatch, batch);
  const bB = broadcastIndex(bBatch, batch);
  const nb = size(batch);
  const outN = nb * M * N;
  const pa = new Int32Array(outN * K);
  const pb = new Int32Array(outN * K);
  for (let t = 0; t < nb; t++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const i = (t * M + m) * N + n;
        for (let k = 0; k < K; k++) {
          pa[i * K + k] = aB[t] * M * K + m * K + k;
          pb[i * K + k] = bB[t] * K * N + k * N + n;
        }
      }
    }
  }
  const outShape = [...batch];
  if (aShape.length > 1) outShape.push(M);
  if (bShape.length > 1) outShape.push(N);
  return { outShape, K, a: pa, b: pb };
}

export function gemmPlan(aShape: number[], bShape: number[], transA: boolean, transB: boolean, what: string): ProductPlan {
  if (aShape.length !== 2 || bShape.length !== 2) {
    throw new FlavumError(`${what}: Gemm needs 2-D operands, got [${aShape}] and [${bShape}]`, "BAD_MODEL");
  }
  const [M, K] = transA ? [aShape[1], aShape[0]] : aShape;
  const [K2, N] = transB ? [bShape[1], bShape[0]] : bShape;
  if (K !== K2) throw new FlavumError(`${what}: Gemm shapes [${aShape}] and [${bShape}] do not agree`, "BAD_MODEL");
  const pa = new Int32Array(M * N * K);
  const pb = new Int32Array(M * N * K);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const i = m * N + n;
      for (let k = 0; k < K; k++) {
        pa[i * K + k] = transA ? k * M + m : m * K + k;
        pb[i * K + k] = transB ? n * K + k : k * N + n;
      }
    }
  }
  return { outShape: [M, N], K, a: pa, b: pb };
}

/** Padding and output size of one spatial axis of a Conv or pool. */
export interface AxisGeometry {
  out: number;
  padBegin: number;
}

export function axisGeometry(
  inSize: number, kernel: number, stride: number, dilation: number,
  autoPad: string, padBegin: number, padEnd: number, what: string,
): AxisGeometry {
  const dk = (kernel - 1) * dilation + 1;
  let out: number;
  let begin = padBegin;
  switch (autoPad) {
    case "NOTSET":
      out = Math.floor((inSize + padBegin + padEnd - dk) / stride) + 1;
      break;
    case "VALID":
      begin = 0;
      out = Math.floor((inSize - dk) / stride) + 1;
      break;
    case "SAME_UPPER":
    case "SAME_LOWER": {
      out = Math.ceil(inSize / stride);
      const total = Math.max(0, (out - 1) * stride + dk - inSize);
      // SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the beginning.
      begin = autoPad === "SAME_UPPER" ? Math.floor(total / 2) : Math.ceil(total / 2);
      break;
    }
    default:
      throw new FlavumError(`${what}: unknown auto_pad "${autoPad}"`, "BAD_MODEL");
  }
  if (out < 1) throw new FlavumError(`${what}: kernel ${kernel} does not fit input size ${inSize}`, "BAD_MODEL");
  return { out, padBegin: begin };
}
