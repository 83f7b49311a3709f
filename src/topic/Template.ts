import type { Captures } from './TopicPattern.ts';

/** A template split into its literal text and names: texts.length === names.length + 1. */
interface ParsedTemplate {
  readonly texts: readonly string[];
  readonly names: readonly string[];
}

/**
 * A name template such as `"{device}_x"`, compiled against a topic pattern's capture names.
 * `{name}` inserts the capture; `{{` and `}}` stand for literal braces.
 * Static templates are resolved at compile time: callers test `isStatic` and use `value`, costing nothing per message.
 * Names from `propertyStart` on are MQTT 5 properties (`{$user.site}`) that the router appends to the captures: a
 * template that uses one renders '' when any property it uses is '' (absent), so a tag is left out rather than
 * written half (`site-`).
 */
export class Template {
  readonly source: string;
  /** True when the template has no `{name}`: `value` is the result for every message. */
  readonly isStatic: boolean;
  /** The result of a static template ('' for a dynamic one). */
  readonly value: string;
  /** Whether the template uses a property (a name at or after `propertyStart`). */
  readonly usesProperties: boolean;

  // Literal parts around the captures: parts.length === indexes.length + 1.
  readonly #parts: readonly string[];
  readonly #indexes: readonly number[];
  // The template is exactly one capture (`{device}`), the common case: render is an array read.
  readonly #single: number;
  readonly #propertyStart: number;

  /**
   * `names`: what `{…}` may name, in capture order (topic captures, then the route's properties).
   * `propertyStart`: the index of the first property in `names` (default: none are).
   */
  constructor(source: string, names: readonly string[], propertyStart = names.length) {
    this.source = source;
    const parsed = parseTemplate(source);
    const indexes = parsed.names.map((name) => {
      const index = names.indexOf(name);
      if (index === -1) {
        const available = names.length === 0 ? '(none: the topic pattern captures nothing)' : names.join(', ');
        throw new RangeError(`template "${source}": unknown name "${name}"; available: ${available}`);
      }
      return index;
    });
    const parts = parsed.texts;
    this.#parts = parts;
    this.#indexes = indexes;
    this.isStatic = indexes.length === 0;
    this.value = this.isStatic ? parts[0]! : '';
    this.usesProperties = indexes.some((i) => i >= propertyStart);
    this.#propertyStart = this.usesProperties ? propertyStart : Number.POSITIVE_INFINITY;
    this.#single = indexes.length === 1 && parts[0] === '' && parts[1] === '' ? indexes[0]! : -1;
  }

  /** The names a template uses, in order (with repeats); throws RangeError when it is malformed. */
  static namesIn(source: string): readonly string[] {
    return parseTemplate(source).names;
  }

  /** The template applied to the captures of a match of the pattern it was compiled for. */
  render(captures: Captures): string {
    if (this.isStatic) return this.value;
    if (this.#single !== -1) return captures[this.#single]!;
    const parts = this.#parts;
    const indexes = this.#indexes;
    let out = parts[0]!;
    for (let i = 0; i < indexes.length; i++) {
      const index = indexes[i]!;
      const value = captures[index]!;
      if (value === '' && index >= this.#propertyStart) return '';
      out += value + parts[i + 1]!;
    }
    return out;
  }
}

function parseTemplate(source: string): ParsedTemplate {
  const texts: string[] = [];
  const names: string[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '{' && source[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (ch === '}' && source[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (ch === '}') {
      throw new RangeError(`template "${source}": unmatched "}" at ${i} (write "}}" for a literal brace)`);
    } else if (ch === '{') {
      const close = source.indexOf('}', i + 1);
      if (close === -1) throw new RangeError(`template "${source}": "{" at ${i} is not closed`);
      const name = source.slice(i + 1, close);
      if (name === '') throw new RangeError(`template "${source}": empty name at ${i}`);
      texts.push(text);
      names.push(name);
      text = '';
      i = close + 1;
    } else {
      text += ch;
      i++;
    }
  }
  texts.push(text);
  return { texts, names };
}
