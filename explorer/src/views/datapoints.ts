/**
 * Data points in the rollup state: owner, kind (owned or common), balance, content hash and where
 * each lives (in the rollup, queued, exiting, or as an L1 token). The list endpoint does not say
 * where a data point lives, so the list asks each one's own endpoint, for the first few only.
 */
import { formatEther } from "ethers";
import { badge, fields, h, link, table } from "../dom";
import { code } from "../format";
import type { DataPoint, DataPointSummary } from "../types";
import type { View } from "./view";

const LOCATED = 20;

function balance(d: { balance: string; asset: string }): string {
  return d.asset === "ETH" ? `${formatEther(BigInt(d.balance))} ETH` : `${d.balance} units of ${d.asset}`;
}

export const dataPointsView: View = async (_p, ctx) => {
  if (!ctx.status.state) {
    return { title: "Data points", body: h("section", {}, h("h1", { tabindex: -1 }, "Data points"), h("p", { class: "empty" }, "This rollup was deployed without data-point state.")) };
  }
  const list = await ctx.api.dataPoints();
  const where = new Map<string, string>();
  await Promise.all(list.slice(0, LOCATED).map(async (d) => {
    const one = await ctx.api.dataPoint(d.dataPoint).catch(() => undefined);
    if (one) where.set(d.dataPoint, one.location);
  }));
  return {
    title: "Data points",
    body: h("section", {},
      h("h1", { tabindex: -1 }, "Data points"),
      h("p", { class: "lede" }, "The rollup state as rebuilt from L1 by the node."),
      table<DataPointSummary>("Data points", [
        { head: "Data point", cell: (d) => link(`#/datapoints/${d.dataPoint}`, d.dataPoint) },
        { head: "Owner", cell: (d) => code(d.owner) },
        { head: "Kind", cell: (d) => badge(d.kind) },
        { head: "Balance", cell: (d) => balance(d), numeric: true },
        { head: "Lives", cell: (d) => (where.has(d.dataPoint) ? badge(where.get(d.dataPoint)!) : "open it to see") },
        { head: "Content hash", cell: (d) => code(d.contentHash) },
      ], list, { "data-testid": "datapoints-table" }),
    ),
  };
};

export const dataPointView: View = async ({ id }, ctx) => {
  const d: DataPoint = await ctx.api.dataPoint(id);
  return {
    title: `Data point ${d.dataPoint}`,
    body: h("section", {},
      h("p", { class: "crumbs" }, link("#/datapoints", "Data points"), " / "),
      h("h1", { tabindex: -1 }, `Data point ${d.dataPoint}`),
      fields([
        ["Owner", d.owner ? code(d.owner, true) : "nobody (not in the state)"],
        ["Kind", badge(d.kind)],
        ["Balance", balance(d)],
        ["Lives", badge(d.location), "datapoint-location"],
        ["Content hash", code(d.contentHash, true)],
      ]),
      h("h2", {}, "Verified results"),
      table<DataPoint["results"][number]>("Results delivered on this data point", [
        { head: "Model", cell: (x) => link(`#/models/${x.modelId}`, x.modelId) },
        { head: "Label", cell: (x) => String(x.label), numeric: true },
        { head: "Output word", cell: (x) => code(x.output) },
        { head: "Batch", cell: (x) => link(`#/batches/${x.batch}`, code(x.batch)) },
        { head: "Checked", cell: (x) => (x.verified ? badge("verified", "ok") : badge("not verified", "bad")) },
      ], d.results),
    ),
  };
};
