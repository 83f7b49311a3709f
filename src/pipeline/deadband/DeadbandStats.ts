/** One route's report-by-exception counters, kept across reloads (a reload makes a new router and new state). */
export interface RouteDeadbandCounters {
  /** The route's label: its topic pattern. */
  readonly route: string;
  /** Field values held back, by sink thinned (each suppressed value counts once for every sink it was kept from). */
  readonly suppressed: Map<string, number>;
  /** Series × field memories dropped because the route's state was full. */
  evictions: number;
  /** Series × field memories held now (set by the route's current state). */
  size: () => number;
}

/** The counters of every route with a deadband, for /metrics; the gateway keeps one, the router adds to it. */
export class DeadbandStats {
  readonly routes = new Map<string, RouteDeadbandCounters>();

  /**
   * A new router takes over (a reload): the old routes' states are let go (a route gone keeps its counts, holds 0
   * memories, and no longer keeps its old state alive).
   */
  detach(): void {
    for (const c of this.routes.values()) c.size = () => 0;
  }

  /** The counters of `route`, made on first use; a reloaded route with the same pattern continues its counts. */
  counters(route: string): RouteDeadbandCounters {
    let c = this.routes.get(route);
    if (c === undefined) {
      c = { route, suppressed: new Map(), evictions: 0, size: () => 0 };
      this.routes.set(route, c);
    }
    return c;
  }
}
