import type { Captures } from './TopicPattern.ts';

/**
 * A name template such as `"{device}_x"`, compiled against a topic pattern's capture names.
 * `{name}` inserts the capture; `{{` and `}}` stand for literal braces.
 * Static templates are resolved at compile time: callers test `isStatic` and use `value`, costing nothing per message.
 */
export class Template {
  readonly source: string;
  /** True when the template has no `{name}`: `value` is the result for every message. */
  readonly isStatic: boolean;
  /** The result of a static template ('' for a dynamic one). */
  readonly value: string;

  // Literal parts around the captures: parts.length === indexes.length + 1.
  readonly #parts: readonly string[];
  readonly #indexes: readonly number[];
  // The template is exactly one capture (`{device}`), the common case: render is an array read.
  readonly #single: number;

  constructor(source: string, names: readonly string[]) {
    this.source = source;
    const parts: string[] = [];
    const indexes: number[] = [];
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
        const index = names.indexOf(name);
        if (index === -1) {
          const available = names.length === 0 ? '(none: the topic pattern captures nothing)' : names.join(', ');
          throw new RangeError(`template "${source}": unknown name "${name}"; available: ${available}`);
        }
        parts.push(text);
        indexes.push(index);
        text = '';
        i = close + 1;
      } else {
        text += ch;
        i++;
      }
    }
    parts.push(text);
    this.#parts = parts;
    this.#indexes = indexes;
    this.isStatic = indexes.length === 0;
    this.value = this.isStatic ? text : '';
    this.#single = indexes.length === 1 && parts[0] === '' && parts[1] === '' ? indexes[0]! : -1;
  }

  /** The template applied to the captures of a match of the pattern it was compiled for. */
  render(captures: Captures): string {
    if (this.isStatic) return this.value;
    if (this.#single !== -1) return captures[this.#single]!;
    const parts = this.#parts;
    const indexes = this.#indexes;
    let out = parts[0]!;
    for (let i = 0; i < indexes.length; i++) out += captures[indexes[i]!]! + parts[i + 1]!;
    return out;
  }
}
