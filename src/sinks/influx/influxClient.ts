import { createRequire } from 'node:module';
import type * as Influx from '@influxdata/influxdb-client';

/**
 * The official InfluxDB client, loaded as CommonJS on purpose. Its ES module build does `import … from "http"`,
 * and an ES import of `node:http` makes Node build the module's ESM facade, which reads every export — including
 * the lazy ones backed by undici (WebSocket, …): 13.7 MB more RSS for code the gateway never runs (measured:
 * `import 'node:http'` 60.6 MB vs `require('node:http')` 46.9 MB). Everything that needs the client imports it
 * from here, so `instanceof HttpError` sees one class.
 */
const influx = createRequire(import.meta.url)('@influxdata/influxdb-client') as typeof Influx;

export const { InfluxDB, Point, HttpError, RequestTimedOutError } = influx;
export type Point = Influx.Point;
export type Transport = Influx.Transport;
export type HttpError = Influx.HttpError;
