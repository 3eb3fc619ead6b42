import { readFileSync } from 'node:fs';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Node, type Pair } from 'yaml';
import { z } from 'zod';
import { JobNameSchema, JobSpecSchema, RepoNameSchema, type JobSpec } from '#contracts';
import { ConfigError } from '#platform';

/** One job of the GANTRY_JOBS_FILE, to be put at start. */
export type JobsFileEntry = { repo: string /* owner/name */; name: string; spec: JobSpec };

/** Same owner rule as usernames: what `owner/name` URLs accept. */
const OwnerSchema = z.string().regex(/^[a-z0-9-]{1,39}$/, 'owner: 1-39 of a-z, 0-9 and -');

/** Zod's "expected string, received undefined" reads badly for a missing field in a hand-written file. */
const messages = { error: (issue: { code: string; input?: unknown }) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined) };

/**
 * Parses the GANTRY_JOBS_FILE: a YAML map of repository (`owner/name`) to a map of job name to job
 * (the body of `PUT …/jobs/{job}`, see JobSpecSchema). An empty file or `{}` puts no job.
 *
 * ```yaml
 * # GANTRY_JOBS_FILE: jobs put at start, per repository
 * acme/widgets:          # owner/name of an existing repository
 *   build:               # job name
 *     steps:
 *       - name: compile
 *         run: make
 *     env: { GOFLAGS: -mod=mod }
 *     timeoutSeconds: 600
 *     params:
 *       - name: target
 *         default: all
 *   release:
 *     runsOn: { labels: [linux, x64] }
 *     steps:
 *       - run: ./release.sh
 * ```
 *
 * Throws one ConfigError whose `problems` list every problem as
 * `<fileName>:<line>:<column>: <dotted.path>: <message>`; without `run: make` above, for instance:
 * `jobs.yaml:5:9: acme/widgets.build.steps.0.run: required` (a missing field points at the map lacking it). The path starts with the repository and
 * job name; `(yaml)` marks a syntax problem, `(root)` the document itself.
 */
export function parseJobsFile(text: string, fileName: string): JobsFileEntry[] {
  const lineCounter = new LineCounter();
  // prettyErrors off: we format positions ourselves, one line per problem. uniqueKeys (the default) reports duplicates.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: { offset: number; text: string }[] = [];
  const report = (offset: number, path: string, message: string) => {
    const { line, col } = lineCounter.linePos(offset);
    problems.push({ offset, text: `${fileName}:${line}:${col}: ${path}: ${message}` });
  };
  const fail = () => new ConfigError(problems.sort((a, b) => a.offset - b.offset).map((problem) => problem.text));

  for (const error of [...doc.errors, ...doc.warnings]) report(error.pos[0], '(yaml)', error.message);
  // Plain data only: an alias can expand a small file into a huge one ("billion laughs"), and nothing here needs one.
  visit(doc, { Alias: (_key, alias) => void report(alias.range?.[0] ?? 0, '(yaml)', `alias *${alias.source} not allowed`) });
  if (problems.length > 0) throw fail();

  const root = doc.contents;
  if (isEmpty(root)) return [];
  if (!isMap(root)) {
    report(offsetOf(root), '(root)', 'expected a map of owner/name to jobs');
    throw fail();
  }

  const entries: JobsFileEntry[] = [];
  for (const repoPair of root.items) {
    const repo = keyText(repoPair);
    const repoProblem = repoKeyProblem(repo);
    if (repoProblem) report(offsetOf(repoPair.key), repo, repoProblem);
    const jobs = repoPair.value;
    if (!isMap(jobs)) {
      report(offsetOf(isEmpty(jobs) ? repoPair.key : jobs), repo, 'expected a map of job name to job');
      continue;
    }
    for (const jobPair of jobs.items) {
      const name = keyText(jobPair);
      const path = `${repo}.${name}`;
      const nameResult = JobNameSchema.safeParse(name);
      if (!nameResult.success) report(offsetOf(jobPair.key), path, `job name: ${nameResult.error.issues[0].message}`);
      // `build:` with nothing after it: point at the key, the empty value has no useful position.
      const jobNode = (isEmpty(jobPair.value) ? jobPair.key : jobPair.value) as Node;
      // maxAliasCount 0 backs up the alias check above: toJS would throw rather than expand one.
      const result = JobSpecSchema.safeParse(isNode(jobPair.value) ? jobPair.value.toJS(doc, { maxAliasCount: 0 }) : null, messages);
      if (result.success) {
        entries.push({ repo, name, spec: result.data });
        continue;
      }
      for (const issue of result.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          // One problem per unknown key, at the key itself: that is the line to fix.
          const map = nodeAt(jobNode, issue.path);
          for (const key of issue.keys) report(offsetOf(keyNode(map, key) ?? map), dotted(path, [...issue.path, key]), 'unknown field');
        } else if (issue.code === 'invalid_key') {
          const map = nodeAt(jobNode, issue.path.slice(0, -1));
          const key = String(issue.path.at(-1));
          report(offsetOf(keyNode(map, key) ?? map), dotted(path, issue.path), `invalid name: ${issue.issues.map((i) => i.message).join('; ')}`);
        } else {
          report(offsetOf(nodeAt(jobNode, issue.path)), dotted(path, issue.path), issue.message);
        }
      }
    }
  }
  if (problems.length > 0) throw fail();
  return entries;
}

/** Reads and parses the GANTRY_JOBS_FILE; an unreadable file is a ConfigError too, so start fails the same way. */
export function loadJobsFile(path: string): JobsFileEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read the jobs file: ${(error as Error).message}`]);
  }
  return parseJobsFile(text, path);
}

function repoKeyProblem(repo: string): string | undefined {
  const [owner, name, ...rest] = repo.split('/');
  if (name === undefined || rest.length > 0) return 'repository must be owner/name';
  const ownerResult = OwnerSchema.safeParse(owner);
  if (!ownerResult.success) return ownerResult.error.issues[0].message;
  const nameResult = RepoNameSchema.safeParse(name);
  return nameResult.success ? undefined : `name: ${nameResult.error.issues[0].message}`;
}

function isEmpty(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function keyText(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

/** The deepest node along a zod issue path: for a missing field, that is the map lacking it. */
function nodeAt(start: Node, path: PropertyKey[]): Node {
  let node = start;
  for (const segment of path) {
    const next = isMap(node) ? node.items.find((pair) => keyText(pair) === String(segment))?.value : isSeq(node) ? node.items[Number(segment)] : undefined;
    if (!next || !(next as Node).range) break;
    node = next as Node;
  }
  return node;
}

function keyNode(map: Node, key: string): Node | undefined {
  return isMap(map) ? (map.items.find((pair) => isPair(pair) && keyText(pair) === key)?.key as Node | undefined) : undefined;
}

function offsetOf(node: unknown): number {
  return (node as Node | null)?.range?.[0] ?? 0;
}

function dotted(prefix: string, path: PropertyKey[]): string {
  return [prefix, ...path.map(String)].join('.');
}
