import type { Route, TimeUnit } from '../route/Route.ts';
import { type MessageProperties, type MessageProperty, readProperty } from '../topic/MessageProperty.ts';
import type { Captures } from '../topic/TopicPattern.ts';
import { type Rejected, rejected } from './Decoder.ts';
import { parseTime } from './parseTime.ts';
import { overBytes } from './PointLimits.ts';

/**
 * The MQTT 5 properties one route reads (built only for a route that reads some: the others never look at a
 * message's properties). `apply` appends their values to the topic's captures, in the order the route's templates
 * were compiled for, and reads the time property; the decoder then sees properties as more captures.
 */
export class RouteProperties {
  readonly #properties: readonly MessageProperty[];
  readonly #measurement: readonly number[];
  readonly #measurementSource: string;
  readonly #time: MessageProperty | undefined;
  readonly #timeUnit: TimeUnit;
  readonly #maxBytes: number;
  /** The captures of the last `apply`: the topic's, then one value per property. */
  captures: Captures = [];
  /** The time of the last `apply`, epoch µs: the time property's, else the arrival time. */
  us = 0;

  constructor(route: Route, maxNameBytes: number) {
    this.#properties = route.properties;
    this.#measurement = route.measurementProperties;
    this.#measurementSource = route.measurement;
    this.#time = route.timeProperty;
    this.#timeUnit = route.timeUnit;
    this.#maxBytes = maxNameBytes;
  }

  /** Whether a route reads any property: only then is a RouteProperties built for it. */
  static needed(route: Route): boolean {
    return route.properties.length > 0 || route.timeProperty !== undefined;
  }

  /** Sets `captures` and `us`, or says why the message cannot be written. */
  apply(topicCaptures: Captures, properties: MessageProperties | undefined, arrivalUs: number): Rejected | undefined {
    const list = this.#properties;
    // Only a time property: the topic's captures as they are, nothing copied.
    let captures = topicCaptures;
    if (list.length > 0) {
      const all = topicCaptures.slice();
      for (let i = 0; i < list.length; i++) {
        const value = readProperty(list[i]!, properties);
        // A property is a name like a topic level, but unlike the topic nothing else bounds its size.
        if (overBytes(value, this.#maxBytes)) return rejected('too_long', `${describe(list[i]!)} is longer than ${this.#maxBytes} bytes`);
        all.push(value);
      }
      for (const i of this.#measurement) {
        if (all[topicCaptures.length + i] !== '') continue;
        return rejected(
          'missing_property',
          `measurement "${this.#measurementSource}" needs ${describe(list[i]!)}, which the message does not carry (or carries empty)`,
        );
      }
      captures = all;
    }
    let us = arrivalUs;
    const time = this.#time;
    if (time !== undefined) {
      const value = readProperty(time, properties);
      // Absent: the arrival time, as for a JSON payload without its time field.
      if (value !== '') {
        const parsed = parseTime(value, this.#timeUnit);
        if (parsed === undefined) {
          return rejected('bad_time', `${describe(time)} = ${JSON.stringify(value.slice(0, 64))} is not a time (unit ${this.#timeUnit})`);
        }
        us = parsed;
      }
    }
    this.captures = captures;
    this.us = us;
    return undefined;
  }
}

function describe(property: MessageProperty): string {
  return property.kind === 'user' ? `user property "${property.key}"` : 'content type';
}
