/**
 * Prints the configuration reference generated from the schema.
 *   node scripts/config-doc.ts                  print the Markdown
 *   node scripts/config-doc.ts --check FILE     exit 1 if FILE's config-reference section is stale
 *   node scripts/config-doc.ts --write FILE     rewrite that section (appended if the markers are missing)
 * The reference lives in docs/configuration.md, between `<!-- config-reference:start -->` and `<!-- config-reference:end -->`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describeSchema, extractReference, REFERENCE_END, REFERENCE_START, spliceReference } from './describeSchema.ts';
import { createSchema } from '../src/config/schema.ts';

// A fixed host name: the gatewayId default is documented by `docDefault`, never the build host's name.
const markdown = describeSchema(createSchema('edgebridge'));
const [mode, file] = process.argv.slice(2);

if (mode === undefined) {
  process.stdout.write(markdown);
} else if ((mode === '--check' || mode === '--write') && file !== undefined) {
  let doc: string;
  try {
    doc = readFileSync(file, 'utf8');
  } catch (err) {
    if (mode === '--check' || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
      process.stderr.write(`config-doc: cannot read ${file}: ${(err as Error).message}\n`);
      process.exit(1);
    }
    doc = '';
  }
  if (mode === '--write') {
    writeFileSync(file, spliceReference(doc, markdown));
    process.stdout.write(`config-doc: wrote the configuration reference to ${file}\n`);
  } else {
    const current = extractReference(doc);
    if (current === undefined) {
      process.stderr.write(
        `config-doc: ${file} has no ${REFERENCE_START} … ${REFERENCE_END} section; run: node scripts/config-doc.ts --write ${file}\n`,
      );
      process.exit(1);
    }
    if (current !== markdown) {
      process.stderr.write(
        `config-doc: the configuration reference in ${file} is out of date; run: node scripts/config-doc.ts --write ${file}\n`,
      );
      process.exit(1);
    }
  }
} else {
  process.stderr.write('usage: node scripts/config-doc.ts [--check FILE | --write FILE]\n');
  process.exit(2);
}
