/**
 * Our view of a convict schema: a tree whose leaves declare doc/default/format/env/arg. We walk
 * it ourselves for strict key checks and validation because convict reports all problems as one
 * string; we want the first problem as structured key/value/expected.
 */
import { FormatError, joinPath } from './FormatError.ts';
import type { FormatSpec } from './formats.ts';

export interface SchemaLeaf {
  readonly doc: string;
  readonly default: unknown;
  readonly format: string;
  readonly env?: string;
  readonly arg?: string;
  readonly sensitive?: boolean;
  /** Shown in the reference instead of `default` when the real default depends on the host. */
  readonly docDefault?: string;
}

export interface SchemaTree {
  readonly [key: string]: SchemaNode;
}

export type SchemaNode = SchemaLeaf | SchemaTree;

export type FormatLookup = Readonly<Record<string, FormatSpec>>;

export function isLeaf(node: SchemaNode): node is SchemaLeaf {
  return Object.hasOwn(node, 'default');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Depth-first, in declaration order: [`mqtt.url`, leaf], … */
export function* leaves(tree: SchemaTree, prefix = ''): Generator<[string, SchemaLeaf]> {
  for (const [key, node] of Object.entries(tree)) {
    const path = joinPath(prefix, key);
    if (isLeaf(node)) yield [path, node];
    else yield* leaves(node, path);
  }
}

export function leafAt(tree: SchemaTree, key: string): SchemaLeaf | undefined {
  let node: SchemaNode | undefined = tree;
  for (const part of key.split('.')) {
    if (node === undefined || isLeaf(node) || !Object.hasOwn(node, part)) return undefined;
    node = (node as SchemaTree)[part];
  }
  return node !== undefined && isLeaf(node) ? node : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name a misspelt one most likely meant: same but for case, else the nearest within 2 edits. */
export function closestName(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(k.toLowerCase(), lower);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** `one of a, b, c (did you mean "b"?)` — the expectation for an undeclared key. */
export function knownKeysExpectation(key: string, known: readonly string[]): string {
  const guess = closestName(key, known);
  return `one of ${known.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`;
}

/**
 * Rejects undeclared keys and objects where a leaf value belongs, before convict merges `raw`
 * (convict would keep undeclared keys, and crashes on some nested objects under leaves).
 */
export function checkShape(tree: SchemaTree, raw: unknown, formats: FormatLookup, prefix = ''): void {
  if (!isPlainObject(raw)) {
    throw new FormatError({ path: prefix, expected: 'an object', value: raw });
  }
  for (const [key, value] of Object.entries(raw)) {
    const path = joinPath(prefix, key);
    if (!Object.hasOwn(tree, key)) {
      throw new FormatError({ path, expected: knownKeysExpectation(key, Object.keys(tree)), value, unknownKey: true });
    }
    const node = tree[key]!;
    if (!isLeaf(node)) {
      checkShape(node, value, formats, path);
    } else if (isPlainObject(value)) {
      validateLeaf(node, value, formats, path);
    }
  }
}

function validateLeaf(leaf: SchemaLeaf, value: unknown, formats: FormatLookup, path: string): void {
  const spec = formats[leaf.format];
  if (!spec) throw new Error(`config schema: "${path}" uses unknown format "${leaf.format}"`);
  try {
    spec.validate(value);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    throw new FormatError({
      path: joinPath(path, err.path),
      expected: err.expected,
      value: err.value,
      sensitive: err.sensitive || leaf.sensitive === true,
      unknownKey: err.unknownKey,
    });
  }
}

/** Validates every leaf of a merged instance; throws the first failure with its full path. */
export function checkValues(tree: SchemaTree, instance: unknown, formats: FormatLookup, prefix = ''): void {
  for (const [key, leaf] of leaves(tree)) {
    let value: unknown = instance;
    for (const part of key.split('.')) value = isPlainObject(value) ? value[part] : undefined;
    validateLeaf(leaf, value, formats, joinPath(prefix, key));
  }
}
