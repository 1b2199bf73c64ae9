/**
 * Circuit code for the node kinds beyond the original five (see src/quant/qgraph.ts for their
 * integer semantics and circuits/lib for the templates). Each output element is one template
 * instance, except `mul`, whose products are inline signals feeding one RescaleAct.
 */
import type { QNode, QPwl, QSigmoid } from "../quant/qgraph";
import { Ref, assign, term } from "./linear";

export function emitNewKind(
  node: QNode, c: string, k: number, size: number, refs: Map<string, Ref>, body: (s: string) => void, includes: Set<string>,
): boolean {
  // One instance of a one-input template per element.
  const perElement = (instance: string, input: string) => {
    includes.add(instance.slice(0, instance.indexOf("(")));
    const src = refs.get(input)!;
    for (let i = 0; i < size; i++) body(`${c}[${i}] = ${instance}; ${c}[${i}].in <== ${src(i)};`);
  };
  switch (node.kind) {
    case "pwl":
      emitTable("PiecewiseLinear", node, c, k, size, refs, body, includes);
      break;
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
    case "sqrt":
      perElement(`SqrtRound(${node.bitsIn}, ${node.bits}, ${node.e})`, node.input);
      break;
    case "compare":
      perElement(`CompareZero(${node.bitsIn}, ${node.op})`, node.input);
      break;
    case "round":
      perElement(`RoundToInt(${node.bitsIn}, ${node.shift}, ${node.mode})`, node.input);
      break;
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

/** A table node (SigmoidPL or PiecewiseLinear): its segment starts and rises as vars, one instance per element. */
export function emitTable(
  template: "SigmoidPL" | "PiecewiseLinear", node: QSigmoid | QPwl, c: string, k: number, size: number,
  refs: Map<string, Ref>, body: (s: string) => void, includes: Set<string>,
): void {
  includes.add(template);
  const src = refs.get(node.input)!;
  body(`var a${k}[${node.A.length}] = [${node.A.join(", ")}];`);
  body(`var d${k}[${node.D.length}] = [${node.D.join(", ")}];`);
  body(`for (var i = 0; i < ${size}; i++) { ${c}[i] = ${template}(${node.bitsIn}, ${node.segBits}, ${node.guard}, ${node.bits}, a${k}, d${k}); }`);
  for (let i = 0; i < size; i++) body(`${c}[${i}].in <== ${src(i)};`);
}
