import type { Config } from '../config/Config.ts';
import { MessageExplainer, type Explanation } from '../explain/MessageExplainer.ts';
import type { DeadbandStats } from '../pipeline/deadband/DeadbandStats.ts';
import { limitsOf } from '../pipeline/PointLimits.ts';
import { Router } from '../pipeline/Router.ts';
import type { RouteResult } from '../pipeline/RouteResult.ts';
import type { HostState } from '../pipeline/sparkplug/HostState.ts';
import type { SparkplugHost } from '../pipeline/sparkplug/SparkplugHost.ts';
import type { RecentMessages } from '../stats/RecentMessages.ts';
import type { MessageProperties } from '../topic/MessageProperty.ts';
import { filterCovers } from '../topic/filterCovers.ts';

export interface LiveRouterOptions {
  readonly config: Config;
  /** Built once by the gateway: its alias maps and seq state outlive every router a reload builds. */
  readonly sparkplug: SparkplugHost | undefined;
  /** Report-by-exception counters: one for the process, so a reload (a new router, new state) keeps counting on. */
  readonly deadband: DeadbandStats;
  /** The status page's recent messages: every verdict is shown to it. */
  readonly recent: RecentMessages;
  /** The gateway's own Sparkplug STATE (sparkplug.hostId), told of every message (a death on its topic); undefined: none. */
  readonly hostState?: HostState | undefined;
}

/**
 * The router the source calls, and the status page's route tester beside it (the --dry-run code, nothing
 * written): both of the running configuration. A reload replaces them between two messages (`replace` is
 * synchronous: the source calls the new router from its next message on).
 */
export class LiveRouter {
  readonly #options: LiveRouterOptions;
  #router: Router;
  #explainer: MessageExplainer;

  constructor(options: LiveRouterOptions) {
    this.#options = options;
    this.#router = this.#build(
      options.config,
      options.config.sinks.map((s) => s.name),
    );
    this.#explainer = new MessageExplainer(options.config);
  }

  /** Every verdict is also shown to the status page's recent messages (a slot assignment for an accepted one). */
  route(topic: string, payload: Buffer, receivedAt: number, properties: MessageProperties | undefined): RouteResult {
    const result = this.#router.route(topic, payload, receivedAt, properties);
    this.#options.recent.observe(topic, payload, result, receivedAt);
    this.#options.hostState?.observe(topic, payload);
    return result;
  }

  explain(topic: string, payload: Buffer, receivedAt: number, properties: MessageProperties | undefined): Explanation {
    return this.#explainer.explain(topic, payload, receivedAt, properties);
  }

  /** The routes of `config`, addressing the sinks by their spool slots (`sinkNames`, undefined where removed). */
  replace(config: Config, sinkNames: readonly (string | undefined)[]): void {
    this.#router = this.#build(config, sinkNames);
    this.#explainer = new MessageExplainer(config);
  }

  /** The routes' filters that no subscription of `subscriptions` delivers every topic of. */
  uncovered(subscriptions: readonly string[]): string[] {
    return this.#router.filters.filter((filter) => !subscriptions.some((sub) => filterCovers(sub, filter)));
  }

  #build(config: Config, sinkNames: readonly (string | undefined)[]): Router {
    return new Router({
      routes: config.routes,
      sinkNames,
      gatewayId: config.gatewayId,
      gatewayTag: config.gatewayTag,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      limits: limitsOf(config.mqtt),
      sparkplug: this.#options.sparkplug,
      deadbandStats: this.#options.deadband,
    });
  }
}
