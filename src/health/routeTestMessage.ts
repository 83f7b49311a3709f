import type { IncomingMessage } from 'node:http';
import type { MessageProperties } from '../explain/MessageExplainer.ts';

/** The body, or undefined once it grows past `max` (the rest is not read; the caller closes the connection). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The route tester's `properties`, as `edgebridge test` takes them: a wrong shape is a 400, not a silent no-op. */
function checkProperties(props: unknown): void {
  const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (!isObject(props)) throw new Error('properties: expected {"contentType", "userProperties"}');
  for (const key of Object.keys(props)) {
    if (key !== 'contentType' && key !== 'userProperties')
      throw new Error(`properties.${key}: unknown; expected contentType or userProperties`);
  }
  if (props.contentType !== undefined && typeof props.contentType !== 'string')
    throw new Error('properties.contentType: expected a string');
  const user = props.userProperties;
  if (user === undefined) return;
  if (!isObject(user)) throw new Error('properties.userProperties: expected an object of name → string or [strings]');
  for (const [k, x] of Object.entries(user)) {
    if (typeof x !== 'string' && !(Array.isArray(x) && x.every((y) => typeof y === 'string')))
      throw new Error(`properties.userProperties.${k}: expected a string or an array of strings`);
  }
}

export function routeTestMessage(value: unknown): { topic: string; payload: Buffer; properties: MessageProperties | undefined } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected {"topic", "payload"}');
  const v = value as Record<string, unknown>;
  if (typeof v.topic !== 'string' || v.topic === '') throw new Error('topic: expected a non-empty string');
  if (v.payload !== undefined && typeof v.payload !== 'string') throw new Error('payload: expected a string');
  const props = v.properties;
  if (props !== undefined) checkProperties(props);
  return {
    topic: v.topic,
    payload: Buffer.from((v.payload as string | undefined) ?? '', 'utf8'),
    properties: props as MessageProperties | undefined,
  };
}
