/** Linear combinations as circom expressions: constant times signal terms, and long sums split into chunks. */

export type Ref = (i: number) => string;

export function term(c: bigint, ref: string): string {
  if (c === 1n) return `+ ${ref}`;
  if (c === -1n) return `- ${ref}`;
  return c < 0n ? `- ${-c}*${ref}` : `+ ${c}*${ref}`;
}

function sum(terms: string[], constant: string): string {
  const body = terms.join(" ");
  if (!body) return constant;
  return constant === "0" ? body.replace(/^\+ /, "").replace(/^- /, "-") : `${constant} ${body}`;
}

/**
 * `target <== constant + terms`. Long sums are accumulated in a var a chunk at a time: one
 * expression of thousands of terms overflows the stack of circom's WebAssembly build.
 */
const CHUNK = 128;
export function assign(target: string, terms: string[], constant: string, acc: string): string[] {
  if (terms.length <= CHUNK) return [`${target} <== ${sum(terms, constant)};`];
  const lines = [`var ${acc} = ${constant};`];
  for (let k = 0; k < terms.length; k += CHUNK) lines.push(`${acc} = ${acc} ${terms.slice(k, k + CHUNK).join(" ")};`);
  lines.push(`${target} <== ${acc};`);
  return lines;
}
