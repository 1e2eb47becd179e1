import { describe, expect, it } from 'vitest';
import { checkDestination, parseCatalogText, validateCatalog } from '../../../src/catalog/validate-catalog.js';
import { mlcacheErrorFrom } from '../../helpers/errors.js';

const FILE = 'team/models.json';
const SHA = 'a'.repeat(64);

function catalogWith(entries: unknown[], group = 'nllb'): unknown {
  return { groups: { [group]: { description: 'd', entries } } };
}

describe('validateCatalog', () => {
  it('accepts a valid catalog and fills defaults', () => {
    const catalog = validateCatalog(
      catalogWith([
        { repo: 'facebook/nllb-200-3.3B', purpose: 'translation' },
        { url: 'https://example.com/x.pth', sha256: SHA, size: 10, destination: 'hub/checkpoints/x.pth', purpose: 'p' },
      ]),
      FILE,
    );
    const [hub, url] = catalog.groups.nllb!.entries;
    expect(hub).toMatchObject({ repo: 'facebook/nllb-200-3.3B', type: 'model', revision: 'main', gated: false, optional: false });
    expect(url).toMatchObject({ destination: 'hub/checkpoints/x.pth', optional: false });
    expect(catalog.version).toBe(1);
  });

  it('reports a bad repo id with file and JSON path', () => {
    const error = mlcacheErrorFrom(() => validateCatalog(catalogWith([{ repo: 'facebook/nllb--200', purpose: 'p' }]), FILE));
    expect(error.code).toBe('CATALOG_INVALID');
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/^team\/models\.json: groups\.nllb\.entries\[0\]\.repo: Invalid repo id 'facebook\/nllb--200'/);
  });

  it('reports a missing field of the branch the entry meant (url → URL artifact)', () => {
    const error = mlcacheErrorFrom(() =>
      validateCatalog(catalogWith([{ url: 'https://example.com/x.pth', size: 10, destination: 'hub/x', purpose: 'p' }]), FILE),
    );
    expect(error.message).toContain('team/models.json: groups.nllb.entries[0].sha256:');
    expect(error.message).not.toContain('.repo');
  });

  it('reports an entry that is neither a repo nor a URL', () => {
    const error = mlcacheErrorFrom(() => validateCatalog(catalogWith([{ purpose: 'p' }]), FILE));
    expect(error.message).toContain('team/models.json: groups.nllb.entries[0]: an entry needs either "repo"');
  });

  it('reports unknown keys by name', () => {
    const error = mlcacheErrorFrom(() => validateCatalog(catalogWith([{ repo: 'a/b', purpose: 'p', inclde: ['*'] }]), FILE));
    expect(error.message).toContain('team/models.json: groups.nllb.entries[0].inclde: unknown key');
  });

  it('reports duplicate entry names', () => {
    const error = mlcacheErrorFrom(() =>
      validateCatalog(catalogWith([{ repo: 'a/b', purpose: 'p' }, { repo: 'c/d', purpose: 'p' }, { repo: 'a/b', purpose: 'q' }]), FILE),
    );
    expect(error.message).toContain("team/models.json: groups.nllb.entries[2].repo: duplicate entry name 'a/b' (also entries[0])");
  });

  it('allows the same repo twice under distinct names', () => {
    const catalog = validateCatalog(catalogWith([{ repo: 'a/b', purpose: 'p' }, { name: 'b-onnx', repo: 'a/b', purpose: 'p', include: ['onnx/'] }]), FILE);
    expect(catalog.groups.nllb!.entries).toHaveLength(2);
  });

  it('reports a bad pattern with its index', () => {
    const error = mlcacheErrorFrom(() => validateCatalog(catalogWith([{ repo: 'a/b', purpose: 'p', include: ['*.json', 'model[.bin'] }]), FILE));
    expect(error.message).toContain("team/models.json: groups.nllb.entries[0].include[1]: invalid pattern 'model[.bin'");
  });

  it('reports a bad group name', () => {
    const error = mlcacheErrorFrom(() => validateCatalog({ groups: { 'Bad Name': { entries: [] } } }, FILE));
    expect(error.message).toContain('team/models.json: groups');
    expect(error.code).toBe('CATALOG_INVALID');
  });

  it('reports an unsafe destination', () => {
    const error = mlcacheErrorFrom(() =>
      validateCatalog(catalogWith([{ url: 'https://e.com/x', sha256: SHA, size: 1, destination: '../../etc/passwd', purpose: 'p' }]), FILE),
    );
    expect(error.message).toContain("team/models.json: groups.nllb.entries[0].destination: unsafe destination '../../etc/passwd'");
  });

  it('reports a bad sha256 and a non-http URL', () => {
    const error = mlcacheErrorFrom(() =>
      validateCatalog(catalogWith([{ url: 'file:///etc/passwd', sha256: 'ABC', size: 1, destination: 'x', purpose: 'p' }]), FILE),
    );
    expect(error.message).toContain('groups.nllb.entries[0].url:');
    expect(error.message).toContain('groups.nllb.entries[0].sha256: must be 64 lower-case hex characters');
  });

  it('lists every problem, one per line', () => {
    const error = mlcacheErrorFrom(() => validateCatalog(catalogWith([{ repo: '-bad', purpose: 'p' }, { repo: 'x/y', purpose: 'p', exclude: [''] }]), FILE));
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith('team/models.json: groups.nllb.entries['))).toBe(true);
    expect(error.details?.problems).toHaveLength(2);
  });

  it('reports bad pins', () => {
    const error = mlcacheErrorFrom(() => validateCatalog({ pins: { 'not a repo': 'main' } }, FILE));
    expect(error.message).toContain('team/models.json: pins["not a repo"]: Invalid repo id');
  });
});

describe('parseCatalogText', () => {
  it('reports invalid JSON with file:line:column', () => {
    const text = '{\n  "groups": {\n    "x": { "entries": [ ] },\n  }\n}\n';
    const error = mlcacheErrorFrom(() => parseCatalogText(text, FILE));
    expect(error.code).toBe('CATALOG_INVALID');
    expect(error.message).toMatch(/^team\/models\.json:4:3: invalid JSON/);
    expect(error.details).toMatchObject({ line: 4, column: 3 });
  });

  it('finds positions V8 does not report', () => {
    // V8: "Unexpected token '}', ... is not valid JSON" (no position).
    const error = mlcacheErrorFrom(() => parseCatalogText('{"groups": tru}', FILE));
    expect(error.message).toMatch(/^team\/models\.json:1:15: /);
  });

  it('accepts a UTF-8 BOM', () => {
    expect(parseCatalogText('\ufeff{"groups": {}}', FILE).groups).toEqual({});
  });
});

describe('checkDestination', () => {
  it.each([
    ['hub/checkpoints/x.pth', true],
    ['x.th', true],
    ['/abs/x', false],
    ['C:/x', false],
    ['~/x', false],
    ['a/../b', false],
    ['a//b', false],
    ['./a', false],
    ['a\\b', false],
  ])('%s safe=%s', (destination, safe) => {
    expect(checkDestination(destination) === undefined).toBe(safe);
  });
});
