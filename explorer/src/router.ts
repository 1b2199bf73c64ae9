/**
 * Routes on location.hash (#/batches/123): the node serves one static page, so every view is a
 * hash the browser keeps in its history, and a link is an ordinary <a href="#/…">.
 */

export interface Match {
  name: string;
  params: Record<string, string>;
}

interface Route {
  name: string;
  re: RegExp;
  keys: string[];
}

export class Router {
  private readonly routes: Route[];

  constructor(patterns: Record<string, string>) {
    this.routes = Object.entries(patterns).map(([name, pattern]) => {
      const keys: string[] = [];
      const re = pattern.replace(/:([a-zA-Z]+)/g, (_m, k: string) => {
        keys.push(k);
        return "([^/]+)";
      });
      return { name, re: new RegExp(`^${re}/?$`), keys };
    });
  }

  /** The route of a hash; an unknown one is "notFound", so a mistyped link says so. */
  match(hash: string): Match {
    const path = decodeURIComponent(hash.replace(/^#/, "")) || "/";
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (m) return { name: r.name, params: Object.fromEntries(r.keys.map((k, i) => [k, m[i + 1]])) };
    }
    return { name: "notFound", params: { path } };
  }

  current(): Match {
    return this.match(location.hash);
  }

  onChange(listener: (m: Match) => void): void {
    window.addEventListener("hashchange", () => listener(this.current()));
  }
}
