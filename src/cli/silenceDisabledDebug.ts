import { registerHooks } from 'node:module';

const NOOP_DEBUG_URL = 'edgebridge:noop-debug';

/**
 * The `debug` package, as a no-op with the same surface (CommonJS, for the packages that `require` it).
 * A disabled `debug(...)` call still costs a function call, a rest-arguments array and a getter: mqtt-packet makes
 * about twenty per MQTT packet, which measured 4–6 % of the gateway's CPU at full rate.
 */
const NOOP_DEBUG_SOURCE = `'use strict';
function noop() {}
noop.enabled = false;
noop.namespace = '';
noop.log = noop;
noop.extend = function () { return noop; };
noop.destroy = function () { return false; };
function createDebug() { return noop; }
createDebug.debug = createDebug;
createDebug.default = createDebug;
createDebug.enable = noop;
createDebug.disable = function () { return ''; };
createDebug.enabled = function () { return false; };
createDebug.names = [];
createDebug.skips = [];
createDebug.formatters = {};
module.exports = createDebug;
`;

/**
 * Unless DEBUG is set (an operator tracing mqtt.js or ioredis: then the real package loads), every `require('debug')`
 * gets the no-op. Must run before the modules that use it are loaded: main.ts imports the rest dynamically after it.
 */
export function silenceDisabledDebug(env: NodeJS.ProcessEnv): boolean {
  if (env.DEBUG !== undefined && env.DEBUG !== '') return false;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'debug') return { url: NOOP_DEBUG_URL, format: 'commonjs', shortCircuit: true };
      return next(specifier, context);
    },
    load(url, context, next) {
      if (url === NOOP_DEBUG_URL) return { format: 'commonjs', source: NOOP_DEBUG_SOURCE, shortCircuit: true };
      return next(url, context);
    },
  });
  return true;
}
