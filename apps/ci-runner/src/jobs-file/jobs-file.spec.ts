import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '#platform';
import { loadJobsFile, parseJobsFile } from './jobs-file';

/** The problems of the ConfigError thrown, or 'no error'. */
const problems = (text: string): string[] | 'no error' => {
  try {
    parseJobsFile(text, 'jobs.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return 'no error';
};

/** A valid job under acme/widgets, with `extra` lines (4-space indented) appended to the job. */
const job = (name: string, ...extra: string[]) => ['acme/widgets:', `  ${name}:`, '    steps:', '      - run: make', ...extra].join('\n') + '\n';

const README_EXAMPLE = `# GANTRY_JOBS_FILE: jobs put at start, per repository
acme/widgets:          # owner/name of an existing repository
  build:               # job name
    steps:
      - name: compile
        run: make
    env: { GOFLAGS: -mod=mod }
    timeoutSeconds: 600
    params:
      - name: target
        default: all
  release:
    runsOn: { labels: [linux, x64] }
    steps:
      - run: ./release.sh
`;

describe('parseJobsFile', () => {
  it('parses the README example into one entry per job, in file order', () => {
    expect(parseJobsFile(README_EXAMPLE, 'jobs.yaml')).toEqual([
      {
        repo: 'acme/widgets',
        name: 'build',
        spec: { steps: [{ name: 'compile', run: 'make' }], env: { GOFLAGS: '-mod=mod' }, timeoutSeconds: 600, params: [{ name: 'target', default: 'all' }] },
      },
      { repo: 'acme/widgets', name: 'release', spec: { runsOn: { labels: ['linux', 'x64'] }, steps: [{ run: './release.sh' }] } },
    ]);
  });

  it('parses several repositories', () => {
    const text = 'acme/widgets:\n  build: { steps: [{ run: make }] }\nbob/my.repo_1:\n  test:\n    runsOn: local\n    steps: [{ run: npm test }]\n';
    expect(parseJobsFile(text, 'jobs.yaml')).toEqual([
      { repo: 'acme/widgets', name: 'build', spec: { steps: [{ run: 'make' }] } },
      { repo: 'bob/my.repo_1', name: 'test', spec: { runsOn: 'local', steps: [{ run: 'npm test' }] } },
    ]);
  });

  it('gives no jobs for an empty file, a comment only, or {}', () => {
    expect(parseJobsFile('', 'jobs.yaml')).toEqual([]);
    expect(parseJobsFile('# nothing yet\n', 'jobs.yaml')).toEqual([]);
    expect(parseJobsFile('{}\n', 'jobs.yaml')).toEqual([]);
  });

  it('refuses a bad job name, at its key', () => {
    expect(problems(job('Build!'))).toEqual(['jobs.yaml:2:3: acme/widgets.Build!: job name: a-z, 0-9, _ and -, starting with a letter or digit, at most 64']);
  });

  it('refuses a step without run, at the line of that step', () => {
    expect(problems(job('build', '      - name: lint'))).toEqual(['jobs.yaml:5:9: acme/widgets.build.steps.1.run: required']);
  });

  it('refuses an unknown field, at its key', () => {
    expect(problems(job('build', '    timeout: 5'))).toEqual(['jobs.yaml:5:5: acme/widgets.build.timeout: unknown field']);
  });

  it('refuses a wrong type deep inside, at the value', () => {
    expect(problems(job('build', '    timeoutSeconds: "x"'))).toEqual([
      'jobs.yaml:5:21: acme/widgets.build.timeoutSeconds: Invalid input: expected number, received string',
    ]);
  });

  it('refuses a repository key that is not owner/name', () => {
    expect(problems('widgets:\n  build: { steps: [{ run: make }] }\n')).toEqual(['jobs.yaml:1:1: widgets: repository must be owner/name']);
    expect(problems('Acme/widgets:\n  build: { steps: [{ run: make }] }\n')).toEqual(['jobs.yaml:1:1: Acme/widgets: owner: 1-39 of a-z, 0-9 and -']);
    expect(problems('acme/..:\n  build: { steps: [{ run: make }] }\n')).toEqual(['jobs.yaml:1:1: acme/..: name: reserved name']);
  });

  it('reports a YAML syntax error with its position', () => {
    expect(problems('acme/widgets:\n  build:\n    steps: [\n')).toEqual([
      'jobs.yaml:4:1: (yaml): Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('reports every problem at once, in file order', () => {
    const text = 'acme/widgets:\n  Bad:\n    steps: [{ run: make }]\n  build:\n    steps:\n      - run: make\n        shell: bash\n    env: { GANTRY_X: y }\n';
    expect(problems(text)).toEqual([
      'jobs.yaml:2:3: acme/widgets.Bad: job name: a-z, 0-9, _ and -, starting with a letter or digit, at most 64',
      'jobs.yaml:7:9: acme/widgets.build.steps.0.shell: unknown field',
      'jobs.yaml:8:12: acme/widgets.build.env.GANTRY_X: invalid name: GANTRY_ names are reserved',
    ]);
  });

  it('refuses duplicate keys, aliases, unknown tags and a non-map document', () => {
    expect(problems(job('build') + '  build:\n    steps: [{ run: make }]\n')).toEqual(['jobs.yaml:5:3: (yaml): Map keys must be unique']);
    expect(problems('acme/widgets:\n  a: &steps { steps: [{ run: make }] }\n  b: *steps\n')).toEqual(['jobs.yaml:3:6: (yaml): alias *steps not allowed']);
    expect(problems('acme/widgets:\n  build: !include other.yaml\n')).toEqual(['jobs.yaml:2:10: (yaml): Unresolved tag: !include']);
    expect(problems('- acme/widgets\n')).toEqual(['jobs.yaml:1:1: (root): expected a map of owner/name to jobs']);
  });

  it('refuses an empty job or repository, at its key', () => {
    expect(problems('acme/widgets:\n  build:\n')).toEqual(['jobs.yaml:2:3: acme/widgets.build: Invalid input: expected object, received null']);
    expect(problems('acme/widgets:\n')).toEqual(['jobs.yaml:1:1: acme/widgets: expected a map of job name to job']);
  });
});

describe('loadJobsFile', () => {
  it('reads the file and names it in problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobs-file-'));
    try {
      const path = join(dir, 'jobs.yaml');
      writeFileSync(path, README_EXAMPLE);
      expect(loadJobsFile(path).map((entry) => entry.name)).toEqual(['build', 'release']);
      writeFileSync(path, job('build', '    timeout: 5'));
      expect(() => loadJobsFile(path)).toThrow(`${path}:5:5: acme/widgets.build.timeout: unknown field`);
      expect(() => loadJobsFile(join(dir, 'missing.yaml'))).toThrow(ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
