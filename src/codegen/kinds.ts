/**
 * Circuit code for the node kinds beyond the original five (see src/quant/qgraph.ts for their
 * integer semantics and circuits/lib for the templates). Each output element is one template
 * instance, except `mul`, whose products are inline signals feeding one RescaleAct.
 */
import type { QNode } from "../quant/qgraph";
import { Ref, assign, term } from "./linear";

export function emitNewKind(
  node: QNode, c: string, k: number, size: number, refs: Map<string, Ref>, body: (s: string) => void, includes: Set<string>,
): boolean {
  switch (node.kind) {
    case "pwl": {
      includes.add("PiecewiseLinear");
      const src = refs.get(node.input)!;
      body(`var a${k}[${node.A.length}] = [${node.A.join(", ")}];`);
      body(`var d${k}[${node.D.length}] = [${node.D.join(", ")}];`);
      body(`for (var i = 0; i < ${size}; i++) { ${c}[i] = PiecewiseLinear(${node.bitsIn}, ${node.segBits}, ${node.guard}, ${node.bits}, a${k}, d${k}); }`);
      for (let i = 0; i < size; i++) body(`${c}[${i}].in <== ${src(i)};`);
      break;
    }
    case "mul": {
      includes.add("RescaleAct");
      const a = refs.get(node.a)!;
      const b = refs.get(node.b)!;
      const total = node.ia.reduce((n, ia) => n + ia.length, 0);
      body(`signal m${k}[${total}];`);
      body(`for (var i = 0; i < ${size}; i++) { ${c}[i] = RescaleAct(${node.bits}, ${node.shift}, 0); }`);
      let e = 0;
      for (let i = 0; i < size; i++) {
        const terms: string[] = [];
        const ia = node.ia[i];
        const ib = node.ib[i];
        for (let j = 0; j < ia.length; j++) {
          body(`m${k}[${e}] <== ${a(ia[j])} * ${b(ib[j])};`);
          terms.push(term(node.coef[i], `m${k}[${e++}]`));
        }
        assign(`${c}[${i}].in`, terms, "0", `acc${k}_${i}`).forEach(body);
      }
      break;
    }
    case "div": {
      includes.add("DivRound");
      const a = refs.get(node.a)!;
      const b = refs.get(node.b)!;
      for (let i = 0; i < size; i++) {
        body(`${c}[${i}] = DivRound(${node.bitsA}, ${node.bitsB}, ${node.k}, ${node.bits}); ${c}[${i}].a <== ${a(node.ia[i])}; ${c}[${i}].b <== ${b(node.ib[i])};`);
      }
      break;
    }
    case "sqrt": {
      includes.add("SqrtRound");
      const src = refs.get(node.input)!;
      for (let i = 0; i < size; i++) body(`${c}[${i}] = SqrtRound(${node.bitsIn}, ${node.bits}, ${node.e}); ${c}[${i}].in <== ${src(i)};`);
      break;
    }
    case "compare": {
      includes.add("CompareZero");
      const src = refs.get(node.input)!;
      for (let i = 0; i < size; i++) body(`${c}[${i}] = CompareZero(${node.bitsIn}, ${node.op}); ${c}[${i}].in <== ${src(i)};`);
      break;
    }
    case "round": {
      includes.add("RoundToInt");
      const src = refs.get(node.input)!;
      for (let i = 0; i < size; i++) body(`${c}[${i}] = RoundToInt(${node.bitsIn}, ${node.shift}, ${node.mode}); ${c}[${i}].in <== ${src(i)};`);
      break;
    }
    case "argindex": {
      includes.add("ArgMax");
      const src = refs.get(node.input)!;
      node.windows.forEach((w, i) => {
        // The last maximum is the first one of the reversed window.
        const order = node.last ? Array.from(w).reverse() : Array.from(w);
        body(`${c}[${i}] = ArgMax(${w.length}, ${node.bitsIn});`);
        order.forEach((j, m) => body(`${c}[${i}].in[${m}] <== ${src(j)};`));
      });
      if (node.last) {
        const lens = node.windows.map((w) => w.length);
        refs.set(node.out, (i) => `(${lens[i] - 1} - ${c}[${i}].out)`);
        return true;
      }
      break;
    }
    default:
      return false;
  }
  refs.set(node.out, (i) => `${c}[${i}].out`);
  return true;
}
