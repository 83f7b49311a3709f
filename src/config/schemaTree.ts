/**
 * Our view of a convict schema: a tree whose leaves declare doc/default/format/env/arg, and the one walk that turns
 * merged values into the typed config. Each leaf's format carries its value type, so the type of the loaded
 * configuration is derived from the tree (ConfigOf) — there is no second, hand-written declaration to keep in step.
 */
import { closestName } from '../errors/closestName.ts';
import { FormatError, joinPath } from '../errors/FormatError.ts';
import { type FormatSpec, isPlainObject } from './formats.ts';

export interface SchemaLeaf<T = unknown> {
  readonly doc: string;
  readonly default: unknown;
  readonly format: FormatSpec<T>;
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

/** The values a tree describes: each leaf becomes its format's type, each subtree an object of its keys. */
export type ConfigOf<T> = {
  readonly [K in keyof T]: T[K] extends { readonly format: FormatSpec<infer V> } ? V : ConfigOf<T[K]>;
};

/** One key of the schema: `maxPoints: leaf(F.positiveInt, 5000, 'Flush when this many points are buffered.')`. */
export function leaf<T>(format: FormatSpec<T>, value: NoInfer<T>, doc: string, more?: Pick<SchemaLeaf, 'sensitive' | 'docDefault'>) {
  return { doc, default: value, format, ...more };
}

export function isLeaf(node: SchemaNode): node is SchemaLeaf {
  return Object.hasOwn(node, 'default');
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
    node = node[part];
  }
  return node !== undefined && isLeaf(node) ? node : undefined;
}

function checkKeys(tree: SchemaTree, raw: Record<string, unknown>, at: string): void {
  const key = Object.keys(raw).find((k) => !Object.hasOwn(tree, k));
  if (key === undefined) return;
  const known = Object.keys(tree);
  const guess = closestName(key, known);
  const expected = `one of ${known.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`;
  throw new FormatError({ path: joinPath(at, key), expected, value: raw[key], unknownKey: true });
}

function parseLeaf<T>(leaf: SchemaLeaf<T>, value: unknown, path: string): T {
  const { coerce, parse } = leaf.format;
  try {
    return parse(typeof value === 'string' && coerce ? coerce(value) : value);
  } catch (err) {
    throw err instanceof FormatError ? err.under(path, leaf.sensitive === true) : err;
  }
}

/**
 * The shape of a config file, before convict merges it: undeclared keys (convict would keep them) and objects where
 * a leaf value belongs (convict crashes on some) are refused. Values are not looked at here.
 */
export function checkShape(tree: SchemaTree, raw: unknown, at = ''): void {
  if (!isPlainObject(raw)) throw new FormatError({ path: at, expected: 'an object', value: raw });
  checkKeys(tree, raw, at);
  for (const [key, value] of Object.entries(raw)) {
    const node = tree[key]!;
    if (!isLeaf(node)) checkShape(node, value, joinPath(at, key));
    else if (isPlainObject(value)) parseLeaf(node, value, joinPath(at, key));
  }
}

/**
 * The one validation: every leaf's value (its default when `raw` has none; strings coerced as from env/CLI) parsed
 * by its format, undeclared keys refused. Throws the first FormatError, with the full path.
 */
export function parseTree<T extends SchemaTree>(tree: T, raw: unknown, at = ''): ConfigOf<T> {
  if (!isPlainObject(raw)) throw new FormatError({ path: at, expected: 'an object', value: raw });
  checkKeys(tree, raw, at);
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    const value = raw[key];
    const path = joinPath(at, key);
    out[key] = isLeaf(node) ? parseLeaf(node, value === undefined ? node.default : value, path) : parseTree(node, value ?? {}, path);
  }
  // The one cast between schema and config: the compiler cannot follow a walk over a generic tree, ConfigOf states it.
  return out as ConfigOf<T>;
}
