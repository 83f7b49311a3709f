import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Config } from '../../config/Config.ts';
import { MessageExplainer } from '../../explain/MessageExplainer.ts';
import { checkRouteCase } from './checkRouteCase.ts';
import { parseRouteTests, RouteTestFileError, type RouteTestCase } from './RouteTestCase.ts';

/** Every case of every file passed. */
export const ROUTE_TESTS_PASSED = 0;
/** A case failed, or a test file could not be read or used. */
export const ROUTE_TESTS_FAILED = 1;

export interface RouteTestSummary {
  readonly cases: number;
  readonly passed: number;
  readonly failed: number;
  /** Files that could not be read or parsed. */
  readonly badFiles: number;
}

/**
 * `edgebridge test FILE…`: runs each file's cases against the configured routes (nothing connects anywhere) and
 * prints a line per case, with the differences under a failed one. Returns the summary; the exit code is 0 only
 * when every case of every file passed.
 */
export function runRouteTests(config: Config, files: readonly string[], out: Writable): RouteTestSummary {
  const explainer = new MessageExplainer(config);
  let cases = 0;
  let passed = 0;
  let badFiles = 0;
  for (const file of files) {
    out.write(`${file}\n`);
    let parsed: RouteTestCase[];
    try {
      parsed = parseRouteTests(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      if (!(error instanceof RouteTestFileError) && !isFsError(error)) throw error;
      badFiles++;
      out.write(`  ✘ cannot use this file: ${(error as Error).message}\n`);
      continue;
    }
    for (const c of parsed) {
      cases++;
      const verdict = checkRouteCase(c, explainer.explain(c.topic, c.payload, c.receivedAt, c.properties));
      if (verdict.pass) passed++;
      out.write(`  ${verdict.pass ? '✔' : '✘'} ${c.name}\n`);
      for (const line of verdict.diff) out.write(`      ${line}\n`);
    }
  }
  const failed = cases - passed;
  out.write(
    `${cases} case(s) in ${files.length} file(s): ${passed} passed, ${failed} failed${badFiles ? `, ${badFiles} file(s) unusable` : ''}\n`,
  );
  return { cases, passed, failed, badFiles };
}

export function routeTestsExitCode(s: RouteTestSummary): number {
  return s.failed === 0 && s.badFiles === 0 ? ROUTE_TESTS_PASSED : ROUTE_TESTS_FAILED;
}

function isFsError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
