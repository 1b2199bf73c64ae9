/**
 * What a view is: a function from route parameters to a titled piece of page, given the API and
 * what the node said about itself. Views fetch, then build; they keep no state between renders, so a
 * live refresh is simply rendering the same route again.
 */
import type { Api } from "../api";
import type { ChainTarget } from "../chain";
import type { Status } from "../types";

export interface ViewContext {
  api: Api;
  status: Status;
  /** Where "Check on chain" asks: the node's values unless the reader changed them. */
  chainTarget(): ChainTarget;
}

export interface Rendered {
  title: string;
  body: Node;
}

export type View = (params: Record<string, string>, ctx: ViewContext) => Promise<Rendered>;
