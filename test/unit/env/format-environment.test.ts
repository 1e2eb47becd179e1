/**
 * Each format is checked by using it: the sh output is sourced by bash, dotenv parsed by
 * python-dotenv, compose by PyYAML, JSON by JSON.parse; fish and PowerShell quoting is checked
 * against exact text (neither shell is installed on these machines).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cacheDirectories, cacheVariables } from '../../../src/env/cache-variables.js';
import { formatEnvironment } from '../../../src/env/format-environment.js';

const root = `/tmp/my project/it's $HOME "quoted"`;
const cache = { base_dir: '.cache', torch_home: '.cache/torch', hf_home: '.cache/huggingface', mlx_home: '/opt/ai-cache/mlx', application_caches: {} };
const dirs = cacheDirectories(cache, { root, env: { HOME: '/home/u' } });
const vars = cacheVariables(dirs, { offline: true });


describe('cacheVariables', () => {
  it('makes every path absolute and derives the hub, transformers and pyannote caches', () => {
    expect(vars).toEqual({
      TORCH_HOME: `${root}/.cache/torch`,
      HF_HOME: `${root}/.cache/huggingface`,
      HF_HUB_CACHE: `${root}/.cache/huggingface/hub`,
      TRANSFORMERS_CACHE: `${root}/.cache/huggingface/hub`,
      MLX_CACHE_DIR: '/opt/ai-cache/mlx',
      PYANNOTE_CACHE: `${root}/.cache/torch/pyannote`,
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
    });
    expect(Object.keys(cacheVariables(dirs))).not.toContain('HF_HUB_OFFLINE');
  });

  it('expands ~ and $VAR like huggingface_hub', () => {
    const d = cacheDirectories({ ...cache, hf_home: '~/hf', torch_home: '$SHARED/torch' }, { root: '/p', env: { HOME: '/home/u', SHARED: '/opt/ai-cache' } });
    expect(d.hfHome).toBe('/home/u/hf');
    expect(d.torchHome).toBe('/opt/ai-cache/torch');
  });
});

describe('formatEnvironment', () => {
  it('sh: bash sources it and sees the exact values', () => {
    // "$0" is process.execPath: the Node running the suite, not whichever `node` PATH finds.
    const script = `${formatEnvironment(vars, 'sh')}\n"$0" -e 'process.stdout.write(JSON.stringify(process.env))'`;
    const seen = JSON.parse(execFileSync('bash', ['-c', script, process.execPath], { encoding: 'utf8' })) as Record<string, string>;
    for (const [k, v] of Object.entries(vars)) expect(seen[k]).toBe(v);
  });

  it('fish and powershell quoting', () => {
    expect(formatEnvironment({ A: `it's \\ $x` }, 'fish')).toBe(`set -gx A 'it\\'s \\\\ $x';\n`);
    expect(formatEnvironment({ A: `it's $x` }, 'powershell')).toBe(`$env:A = 'it''s $x'\n`);
  });

  it('dotenv: python-dotenv reads the exact values', () => {
    const simple = { A: '/plain/path', B: '/with space/and $dollar', C: `/it's/here`, D: '1' };
    const text = formatEnvironment(simple, 'dotenv');
    const py = 'import sys, json\nfrom dotenv import dotenv_values\nimport io\nprint(json.dumps(dotenv_values(stream=io.StringIO(sys.stdin.read()), interpolate=False)))';
    const parsed = JSON.parse(execFileSync('python3', ['-c', py], { input: text, encoding: 'utf8' })) as Record<string, string>;
    expect(parsed).toEqual(simple);
    expect(text).toContain(`B='/with space/and $dollar'`);
  });

  it('json parses back to the variables', () => {
    expect(JSON.parse(formatEnvironment(vars, 'json'))).toEqual(vars);
  });

  it('github: KEY=value lines, heredoc form for multi-line values', () => {
    expect(formatEnvironment({ A: '/x y', B: 'l1\nl2' }, 'github', { delimiter: 'EOF_1' })).toBe('A=/x y\nB<<EOF_1\nl1\nl2\nEOF_1\n');
  });

  it('compose: valid YAML with the user, container paths and bind mounts', () => {
    const text = formatEnvironment(vars, 'compose', { dirs });
    const py = 'import sys, json, yaml\nprint(json.dumps(yaml.safe_load(sys.stdin.read())))';
    const doc = JSON.parse(execFileSync('python3', ['-c', py], { input: text, encoding: 'utf8' })) as {
      services: { app: { user: string; environment: Record<string, string>; volumes: Array<{ type: string; source: string; target: string }> } };
    };
    const app = doc.services.app;
    expect(app.user).toBe('${UID}:${GID}');
    expect(app.environment).toMatchObject({ HF_HOME: '/cache/huggingface', HF_HUB_CACHE: '/cache/huggingface/hub', PYANNOTE_CACHE: '/cache/torch/pyannote', MLX_CACHE_DIR: '/cache/mlx', HF_HUB_OFFLINE: '1' });
    // `$` is doubled so compose does not interpolate the host path.
    expect(app.volumes).toContainEqual({ type: 'bind', source: dirs.hfHome.replace(/\$/g, '$$$$'), target: '/cache/huggingface' });
    expect(app.volumes.map((v) => v.target)).toEqual(['/cache/huggingface', '/cache/torch', '/cache/mlx']);
  });
});
