/**
 * A few DOM builders so views read as the markup they make. Text always goes in as text nodes,
 * never as HTML: names, URIs and reasons come from the chain and the node, and must not become markup.
 */

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

/** Appends children, flattening arrays and skipping absent ones (so views can write `cond && el`). */
export function append(parent: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) return c.forEach((x) => append(parent, x));
  parent.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
}

export function applyAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

export function fragment(...children: Child[]): DocumentFragment {
  const f = document.createDocumentFragment();
  append(f, children);
  return f;
}

/** A table with a caption (screen readers announce it) and one row per item. */
export function table<T>(caption: string, columns: { head: string; cell: (row: T) => Child; numeric?: boolean }[], rows: T[], attrs: Attrs = {}): HTMLElement {
  if (!rows.length) return h("p", { class: "empty" }, `${caption}: none yet.`);
  return h("div", { class: "table-wrap" },
    h("table", attrs,
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.head)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell(r)))))),
    ),
  );
}

/** A list of label → value pairs (a <dl>), skipping values that are absent. */
export function fields(pairs: [string, Child, string?][]): HTMLElement {
  return h("dl", { class: "fields" },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v, testid]) => [h("dt", {}, k), h("dd", { "data-testid": testid }, v)]),
  );
}

export function badge(text: string, kind = text): HTMLElement {
  return h("span", { class: `badge badge-${kind.toLowerCase().replace(/[^a-z0-9]+/g, "-")}` }, text);
}

export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href }, ...children);
}
