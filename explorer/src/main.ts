/**
 * The explorer's entry point: reads what the node serves (/api/status), routes the hash to a view,
 * and re-renders the current view when the node reports an event, a little after a burst of them
 * (a batch makes four events in a few seconds) and never while the tab is hidden.
 */
import { api, ApiError } from "./api";
import { bindChainSettings } from "./chainSettings";
import { h } from "./dom";
import { connectLive } from "./live";
import { Router, type Match } from "./router";
import { batchView } from "./views/batch";
import { batchesView } from "./views/batches";
import { dataPointsView, dataPointView } from "./views/datapoints";
import { inferenceView } from "./views/inference";
import { LiveLog } from "./views/liveLog";
import { modelsView, modelView } from "./views/models";
import { overviewView } from "./views/overview";
import { repositoriesView } from "./views/repositories";
import { requestsView } from "./views/requests";
import type { Rendered, View, ViewContext } from "./views/view";

const router = new Router({
  overview: "/", models: "/models", model: "/models/:id", batches: "/batches", batch: "/batches/:id", requests: "/requests",
  request: "/requests/:id", datapoints: "/datapoints", datapoint: "/datapoints/:id", repositories: "/repositories",
});

const VIEWS: Record<string, View> = {
  overview: overviewView, models: modelsView, model: modelView, batches: batchesView, batch: batchView, requests: requestsView,
  request: inferenceView, datapoints: dataPointsView, datapoint: dataPointView, repositories: repositoriesView,
};

/** Which nav entry a route belongs to. */
const SECTION: Record<string, string> = { model: "models", batch: "batches", request: "requests", datapoint: "datapoints" };

const REFRESH_QUIET_MS = 400;
const REFRESH_MAX_WAIT_MS = 2_000;

const viewEl = document.getElementById("view")!;

function notFound(m: Match): Rendered {
  return { title: "Not found", body: h("section", {}, h("h1", { tabindex: -1 }, "Not found"), h("p", {}, `There is no page ${m.params.path}. `, h("a", { href: "#/" }, "Back to the overview"))) };
}

function failure(e: unknown): HTMLElement {
  const msg = e instanceof ApiError ? `${e.message}${e.code ? ` (${e.code})` : ""}` : (e as Error).message;
  return h("div", { class: "error", role: "alert", "data-testid": "view-error" }, msg);
}

/** A selector for the element that has focus, to give it back after a refresh rebuilt the view. */
function focusKey(): string | undefined {
  const a = document.activeElement;
  if (!a || !viewEl.contains(a) || a === viewEl) return undefined;
  if (a.id) return `#${CSS.escape(a.id)}`;
  const href = a.getAttribute("href");
  return href ? `[href="${CSS.escape(href)}"]` : undefined;
}

function markNav(m: Match): void {
  const section = SECTION[m.name] ?? m.name;
  document.querySelectorAll<HTMLAnchorElement>("nav a[data-nav]").forEach((a) => {
    if (a.dataset.nav === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
}

let generation = 0;
let focusHeading = false;

async function render(ctx: ViewContext, refresh: boolean): Promise<void> {
  const g = ++generation;
  const m = router.current();
  markNav(m);
  if (!refresh) {
    focusHeading = true;
    // data-route names the view on screen: cleared until the new one is there (tests wait on it).
    delete viewEl.dataset.route;
    viewEl.setAttribute("aria-busy", "true");
    viewEl.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  }
  let out: Rendered;
  try {
    const view = VIEWS[m.name];
    out = view ? await view(m.params, ctx) : notFound(m);
  } catch (e) {
    if (g !== generation) return;
    viewEl.removeAttribute("aria-busy");
    // A refresh that failed leaves what was shown, with the reason above it.
    if (refresh && viewEl.dataset.route === m.name) {
      viewEl.querySelector(":scope > .error")?.remove();
      viewEl.prepend(failure(e));
    } else {
      viewEl.replaceChildren(failure(e));
      delete viewEl.dataset.route;
    }
    return;
  }
  if (g !== generation) return;
  const key = refresh ? focusKey() : undefined;
  viewEl.replaceChildren(out.body);
  viewEl.dataset.route = m.name;
  viewEl.removeAttribute("aria-busy");
  document.title = `${out.title} · Flavum explorer`;
  if (focusHeading) {
    focusHeading = false;
    if (generation > 1) viewEl.querySelector<HTMLElement>("h1")?.focus();
  } else if (key) viewEl.querySelector<HTMLElement>(key)?.focus();
}

function refresher(ctx: ViewContext): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firstAt: number | undefined;
  let missed = false;
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && missed) {
      missed = false;
      void render(ctx, true);
    }
  });
  return () => {
    if (document.hidden) {
      missed = true;
      return;
    }
    const now = Date.now();
    firstAt ??= now;
    clearTimeout(timer);
    timer = setTimeout(() => {
      firstAt = undefined;
      void render(ctx, true);
    }, Math.max(0, Math.min(REFRESH_QUIET_MS, firstAt + REFRESH_MAX_WAIT_MS - now)));
  };
}

async function boot(): Promise<void> {
  let status;
  try {
    status = await api.status();
  } catch (e) {
    viewEl.replaceChildren(failure(e), h("p", {}, h("button", { type: "button", onclick: () => location.reload() }, "Try again")));
    return;
  }
  const ctx: ViewContext = { api, status, chainTarget: bindChainSettings(status) };
  const log = new LiveLog(document.getElementById("live-events")!, document.getElementById("live-status")!);
  const refresh = refresher(ctx);
  let wasDown = false;
  connectLive({
    onEvent: (e) => {
      log.add(e);
      refresh();
    },
    onState: (s, detail) => {
      // Events sent while the stream was down are lost: catch up by rendering again.
      if (s === "open" && wasDown) refresh();
      wasDown = s === "reconnecting";
      log.state(s, detail);
    },
  });
  router.onChange(() => void render(ctx, false));
  await render(ctx, false);
}

void boot();
