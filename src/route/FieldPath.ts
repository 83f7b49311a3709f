/**
 * A selected JSON field: `ENERGY.Power` (named `ENERGY_Power`) or `power=ENERGY.Power` (renamed).
 * Segments are split on '.' only, so `params.switch:0.apower` works; keys that contain '.' cannot be addressed.
 * Array elements are addressed by index: `values.0`.
 */
export class FieldPath {
  readonly name: string;
  readonly segments: readonly string[];

  constructor(spec: string) {
    const eq = spec.indexOf('=');
    const path = eq === -1 ? spec : spec.slice(eq + 1);
    this.name = eq === -1 ? path.replaceAll('.', '_') : spec.slice(0, eq);
    this.segments = path.split('.');
    if (this.name === '' || this.segments.some((s) => s === '')) {
      throw new RangeError(`field "${spec}": expected "path.to.value" or "name=path.to.value" without empty parts`);
    }
  }

  /** The object holding the last segment (undefined when the path does not lead to an object). */
  parent(root: unknown): unknown {
    const segments = this.segments;
    let node = root;
    for (let i = 0; i < segments.length - 1; i++) {
      if (node === null || typeof node !== 'object') return undefined;
      node = (node as Record<string, unknown>)[segments[i]!];
    }
    return node !== null && typeof node === 'object' ? node : undefined;
  }

  /** The value at the path, undefined when absent. */
  get(root: unknown): unknown {
    const parent = this.parent(root);
    return parent === undefined ? undefined : (parent as Record<string, unknown>)[this.segments[this.segments.length - 1]!];
  }

  /** The path as written (no rename). */
  get path(): string {
    return this.segments.join('.');
  }
}
