#!/usr/bin/env node
/**
 * Interop check against the REAL Python huggingface_hub (not part of `npm test`: CI cannot install
 * it). Run with `PYTHONPATH=... npm run interop:python` when `python3 -c "import huggingface_hub"`
 * works; exits 2 with a message when it does not.
 *
 * Starts the Hub emulator (dist/emulator) in this process and checks, for real:
 *   1. mlcache → Python: `mlcache download` writes a cache; Python with HF_HUB_OFFLINE=1 reads it
 *      (scan_cache_dir, hf_hub_download / snapshot_download with local_files_only,
 *      try_to_load_from_cache) for a model and a dataset, a commit-hash revision, a tag, refs/pr/1,
 *      nested, non-ASCII, LFS, regular and ≥ 64 MiB (chunked) files. Then Python online on top of it
 *      downloads nothing.
 *   2. Python → mlcache: hf_hub_download / snapshot_download against the emulator write a cache;
 *      `mlcache status`, `verify`, `offline-check` read it; `mlcache download` on top fetches only
 *      what Python did not; the cache files both tools write are byte-identical; Python still reads
 *      the result.
 *   1b. mlcache push of those snapshots to a real registry (Debian's docker-registry, when
 *      installed) and mlcache pull into an empty cache: Python reads the pulled cache the same way.
 *   3. (implicitly) the real client's requests against the emulator: HEAD + 302 to the CDN,
 *      X-Repo-Commit / X-Linked-Etag / X-Linked-Size, tree pagination, paths-info form bodies,
 *      percent-encoded revisions, and a Range resume after a dropped connection.
 *
 * Any Python warning (warnings module) or WARNING log record of huggingface_hub during a check is a
 * failure. Prints a PASS/FAIL table; exit 1 on any failure. `--keep` keeps the temp folders.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const mlcacheBin = path.join(root, 'bin', 'mlcache.js');
const { createHubEmulator, DEFAULT_TOKEN } = await import(path.join(root, 'dist', 'emulator', 'index.js'));
const keep = process.argv.includes('--keep');
const python = process.env.PYTHON ?? 'python3';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const MODEL = 'interop/tiny-model';
const DATASET = 'interop/tiny-data';
const SINGLE = 'interop-single';
const MiB = 1024 * 1024;

const repos = [
  {
    id: MODEL,
    type: 'model',
    revisions: [
      {
        refs: ['v1.0'],
        files: [
          { path: 'config.json', content: '{"v": 1}\n' },
          { path: 'model.safetensors', generated: { size: 1_000_000, seed: 1 } },
        ],
      },
      {
        refs: ['main'],
        files: [
          { path: 'config.json', content: '{"v": 2}\n' },
          { path: 'README.md', content: '---\nlicense: mit\n---\n# tiny\n' },
          { path: 'model.safetensors', generated: { size: 3_000_000, seed: 2 } },
          // ≥ 64 MiB: mlcache's chunked path (ranges + worker hash); Python's single stream.
          { path: 'big/shard-00001.bin', generated: { size: 70 * MiB, seed: 5 } },
          { path: 'sub/dir/weights.bin', generated: { size: 200_000, seed: 3 } },
          { path: 'sub/dir/vocab.txt', content: 'a\nb\nc\n' },
          // Percent-encoding in resolve URLs, ensure_ascii in trees/<commit>.json.
          { path: 'sub/naïve file.txt', content: 'déjà vu\n' },
        ],
      },
      {
        refs: ['refs/pr/1'],
        files: [
          { path: 'config.json', content: '{"v": 3}\n' },
          { path: 'model.safetensors', generated: { size: 3_000_000, seed: 2 } },
        ],
      },
      {
        refs: ['dev'],
        files: [
          { path: 'config.json', content: '{"v": 4}\n' },
          { path: 'sub/dir/vocab.txt', content: 'x\ny\n' },
        ],
      },
    ],
  },
  {
    id: DATASET,
    type: 'dataset',
    revisions: [
      {
        refs: ['main'],
        files: [
          { path: 'README.md', content: '# data\n' },
          { path: 'data/train.csv', content: 'a,b\n1,2\n' },
          { path: 'data/train.parquet', generated: { size: 500_000, seed: 4 } },
        ],
      },
    ],
  },
  {
    id: SINGLE,
    type: 'model',
    revisions: [
      {
        refs: ['main'],
        files: [
          { path: 'config.json', content: '{"single": true}\n' },
          { path: 'pytorch_model.bin', generated: { size: 100_000, seed: 6 } },
        ],
      },
    ],
  },
];

function fixture(repoId) {
  const repo = repos.find((r) => r.id === repoId);
  if (repo === undefined) throw new Error(`no fixture ${repoId}`);
  return repo;
}

function filesAt(repoId, ref) {
  const rev = fixture(repoId).revisions.find((r) => r.refs.includes(ref));
  if (rev === undefined) throw new Error(`no ref ${ref} in ${repoId}`);
  return rev.files.map((f) => f.path);
}

// ---------------------------------------------------------------------------------------------
// The Python side: one program, several modes, one JSON line per check on stdout.
// ---------------------------------------------------------------------------------------------

const PYTHON_CHECKS = String.raw`
import hashlib, json, logging, os, re, sys, traceback, warnings

MODE, SPEC_PATH = sys.argv[1], sys.argv[2]
with open(SPEC_PATH, encoding="utf-8") as fh:
    SPEC = json.load(fh)

def report(check, ok, detail="", known=False):
    print(json.dumps({"check": check, "ok": bool(ok), "detail": str(detail)[:600], "known": known}), flush=True)

class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []
    def emit(self, record):
        self.messages.append(record.getMessage())

def guarded(name, fn, allow_log=False):
    handler = Collect()
    lib_logger = logging.getLogger("huggingface_hub")
    lib_logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            detail = fn()
        problems = ["%s: %s" % (w.category.__name__, w.message) for w in caught]
        if not allow_log:
            problems += ["log warning: " + m for m in handler.messages]
        if problems:
            report(name, False, "; ".join(problems))
        else:
            report(name, True, detail or "")
    except Exception as e:
        report(name, False, "%s: %s" % (type(e).__name__, e))
    finally:
        lib_logger.removeHandler(handler)

if MODE == "version":
    import huggingface_hub
    print(json.dumps({"version": huggingface_hub.__version__, "file": huggingface_hub.__file__}))
    sys.exit(0)

with warnings.catch_warnings():
    warnings.simplefilter("error")
    import huggingface_hub
    from huggingface_hub import HfApi, hf_hub_download, hf_hub_url, get_hf_file_metadata, scan_cache_dir, snapshot_download, try_to_load_from_cache
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError
    from huggingface_hub.file_download import _CACHED_NO_EXIST

CACHE = SPEC["cacheDir"]

def sha256_of(p):
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

def folder(repo_id, repo_type):
    return os.path.join(CACHE, "%ss--%s" % (repo_type, repo_id.replace("/", "--")))

def expect(cond, message):
    if not cond:
        raise AssertionError(message)

def label(item):
    return "%s%s@%s" % ("" if item["repoType"] == "model" else item["repoType"] + ":", item["repoId"], item["revision"])

def check_file(item, f, online=False):
    p = hf_hub_download(item["repoId"], f["path"], repo_type=item["repoType"], revision=item["revision"],
                        cache_dir=CACHE, local_files_only=not online)
    want = os.path.join(folder(item["repoId"], item["repoType"]), "snapshots", item["commit"], *f["path"].split("/"))
    expect(os.path.abspath(p) == want, "path %s, expected %s" % (p, want))
    expect(os.path.getsize(p) == f["size"], "size %d, expected %d" % (os.path.getsize(p), f["size"]))
    expect(sha256_of(p) == f["sha256"], "sha256 differs for %s" % f["path"])
    if not SPEC.get("copies"):
        blob = os.path.realpath(p)
        expect(os.path.basename(blob) == f["blob"], "blob %s, expected %s" % (os.path.basename(blob), f["blob"]))
    else:
        expect(not os.path.islink(p), "%s is a symlink in a no-symlink cache" % f["path"])

def check_scan():
    info = scan_cache_dir(CACHE)
    known = [str(w) for w in info.warnings if any(re.search(k, str(w)) for k in SPEC.get("knownScanWarnings", []))]
    if known:
        report("scan_cache_dir known warning (documented, see docs/cache-layout.md)", True, "; ".join(known), known=True)
    other = [str(w) for w in info.warnings if str(w) not in known]
    expect(not other, "scan_cache_dir warnings: %s" % other)
    incomplete = getattr(info, "incomplete_files", None) or []  # listed since huggingface_hub 1.x
    expect(not incomplete, "incomplete files: %s" % [str(f.file_path) for f in incomplete])
    got = {(r.repo_type, r.repo_id): r for r in info.repos}
    want = {(r["repoType"], r["repoId"]): r for r in SPEC["state"]}
    expect(set(got) == set(want), "repos %s, expected %s" % (sorted(got), sorted(want)))
    total = 0
    for key, w in want.items():
        repo = got[key]
        blobs = {}
        for rev in w["revisions"]:
            for f in rev["files"]:
                blobs[f["blob"]] = f["size"]
        total += sum(blobs.values())
        if not SPEC.get("copies"):
            # With copies, Python counts each snapshot file as its own blob (blob_path = the file).
            expect(repo.size_on_disk == sum(blobs.values()), "%s size_on_disk %d, expected %d" % (key, repo.size_on_disk, sum(blobs.values())))
            expect(repo.nb_files == len(blobs), "%s nb_files %d, expected %d" % (key, repo.nb_files, len(blobs)))
        revs = {r.commit_hash: r for r in repo.revisions}
        expect(set(revs) == {r["commit"] for r in w["revisions"]}, "%s revisions %s" % (key, sorted(revs)))
        for rev in w["revisions"]:
            r = revs[rev["commit"]]
            expect(set(r.refs) == set(rev["refs"]), "%s@%s refs %s, expected %s" % (key, rev["commit"][:12], sorted(r.refs), rev["refs"]))
            files = {str(f.file_path.relative_to(r.snapshot_path)).replace(os.sep, "/"): f for f in r.files}
            expect(set(files) == {f["path"] for f in rev["files"]}, "%s@%s files %s" % (key, rev["commit"][:12], sorted(files)))
            for f in rev["files"]:
                cf = files[f["path"]]
                expect(cf.size_on_disk == f["size"], "%s %s size %d" % (key, f["path"], cf.size_on_disk))
                if not SPEC.get("copies"):
                    expect(cf.blob_path.name == f["blob"], "%s %s blob %s" % (key, f["path"], cf.blob_path.name))
                expect(cf.file_name == f["path"].split("/")[-1], "file_name %s" % cf.file_name)
        expect(set(repo.refs) == {ref for rev in w["revisions"] for ref in rev["refs"]}, "%s refs %s" % (key, sorted(repo.refs)))
    if not SPEC.get("copies"):
        expect(info.size_on_disk == total, "size_on_disk %d, expected %d" % (info.size_on_disk, total))
    return "%d repos, %d revisions, %d bytes" % (len(got), sum(len(r.revisions) for r in info.repos), total)

def read_checks():
    guarded("scan_cache_dir: repos, revisions, refs, files, sizes, no warnings", check_scan)
    for item in SPEC["lookups"]:
        def files(item=item):
            for f in item["files"]:
                check_file(item, f)
            return "%d files byte-identical" % len(item["files"])
        guarded("hf_hub_download(local_files_only) %s" % label(item), files)
        def cached(item=item):
            for f in item["files"]:
                p = try_to_load_from_cache(item["repoId"], f["path"], cache_dir=CACHE, revision=item["revision"], repo_type=item["repoType"])
                want = os.path.join(folder(item["repoId"], item["repoType"]), "snapshots", item["commit"], *f["path"].split("/"))
                expect(isinstance(p, str) and os.path.abspath(p) == want, "try_to_load_from_cache(%s) = %r" % (f["path"], p))
            missing = try_to_load_from_cache(item["repoId"], "not-in-the-repo.txt", cache_dir=CACHE, revision=item["revision"], repo_type=item["repoType"])
            expect(missing is None or missing is _CACHED_NO_EXIST, "unknown file gave %r" % (missing,))
        guarded("try_to_load_from_cache %s" % label(item), cached)
        if item.get("snapshot") is not None:
            def snap(item=item):
                kwargs = {}
                if item["snapshot"].get("allowPatterns"):
                    kwargs["allow_patterns"] = item["snapshot"]["allowPatterns"]
                p = snapshot_download(item["repoId"], repo_type=item["repoType"], revision=item["revision"], cache_dir=CACHE, local_files_only=True, **kwargs)
                want = os.path.join(folder(item["repoId"], item["repoType"]), "snapshots", item["commit"])
                expect(os.path.abspath(p) == want, "snapshot path %s, expected %s" % (p, want))
                return os.path.relpath(p, CACHE)
            guarded("snapshot_download(local_files_only%s) %s" % (", allow_patterns" if item["snapshot"].get("allowPatterns") else "", label(item)), snap)
    for item in SPEC.get("incompleteSnapshots", []):
        def incomplete(item=item):
            from huggingface_hub.errors import IncompleteSnapshotError
            try:
                snapshot_download(item["repoId"], repo_type=item["repoType"], revision=item["revision"], cache_dir=CACHE, local_files_only=True)
            except IncompleteSnapshotError:
                return "IncompleteSnapshotError, as for a Python download with allow_patterns"
            raise AssertionError("snapshot_download succeeded on a partial snapshot")
        guarded("snapshot_download(local_files_only) of a partial snapshot %s" % label(item), incomplete)
    for item in SPEC.get("absent", []):
        def absent(item=item):
            try:
                hf_hub_download(item["repoId"], item["path"], repo_type=item["repoType"], revision=item["revision"], cache_dir=CACHE, local_files_only=True)
            except LocalEntryNotFoundError:
                return "LocalEntryNotFoundError (%s)" % item["why"]
            raise AssertionError("found offline")
        guarded("not cached offline %s %s" % (label(item), item["path"]), absent)
    for item in SPEC.get("noExist", []):
        def no_exist(item=item):
            got = try_to_load_from_cache(item["repoId"], item["path"], cache_dir=CACHE, revision=item["revision"], repo_type=item["repoType"])
            expect(got is _CACHED_NO_EXIST, "try_to_load_from_cache gave %r" % (got,))
            return "_CACHED_NO_EXIST"
        guarded("try_to_load_from_cache of a known-missing file %s %s" % (label(item), item["path"]), no_exist)

def write_checks():
    for action in SPEC["actions"]:
        item = action
        if action["kind"] == "snapshot":
            def snap(item=item):
                kwargs = {"allow_patterns": item["allowPatterns"]} if item.get("allowPatterns") else {}
                p = snapshot_download(item["repoId"], repo_type=item["repoType"], revision=item["revision"], cache_dir=CACHE, **kwargs)
                want = os.path.join(folder(item["repoId"], item["repoType"]), "snapshots", item["commit"])
                expect(os.path.abspath(p) == want, "snapshot path %s, expected %s" % (p, want))
                for f in item["files"]:
                    check_file(item, f, online=True)
                return "%d files" % len(item["files"])
            guarded("snapshot_download %s" % label(item), snap, allow_log=item.get("allowLog", False))
        elif action["kind"] == "file":
            def one(item=item):
                for f in item["files"]:
                    check_file(item, f, online=True)
                return ", ".join(f["path"] for f in item["files"])
            guarded("hf_hub_download %s" % label(item), one)
        elif action["kind"] == "missing":
            def missing(item=item):
                try:
                    hf_hub_download(item["repoId"], item["path"], repo_type=item["repoType"], revision=item["revision"], cache_dir=CACHE)
                except EntryNotFoundError:
                    return "EntryNotFoundError (writes .no_exist)"
                raise AssertionError("no error for a missing file")
            guarded("hf_hub_download of a missing file %s %s" % (label(item), item["path"]), missing)
    api = HfApi()
    for probe in SPEC.get("metadata", []):
        def meta(probe=probe):
            url = hf_hub_url(probe["repoId"], probe["path"], repo_type=probe["repoType"], revision=probe["revision"])
            m = get_hf_file_metadata(url)
            expect(m.commit_hash == probe["commit"], "commit_hash %s" % m.commit_hash)
            expect(m.etag == probe["etag"], "etag %s, expected %s" % (m.etag, probe["etag"]))
            expect(m.size == probe["size"], "size %s, expected %s" % (m.size, probe["size"]))
            if probe["lfs"]:
                expect(m.location != url and "/repos/" in m.location, "location %s is not the CDN" % m.location)
            else:
                expect(m.location == url, "location %s" % m.location)
            return "etag %s…, size %d" % (m.etag[:12], m.size)
        guarded("get_hf_file_metadata (HEAD) %s %s" % (label(probe), probe["path"]), meta)
    for probe in SPEC.get("trees", []):
        def tree(probe=probe):
            entries = list(api.list_repo_tree(probe["repoId"], repo_type=probe["repoType"], revision=probe["revision"], recursive=True))
            files = sorted(e.path for e in entries if e.__class__.__name__ == "RepoFile")
            expect(files == sorted(probe["files"]), "files %s" % files)
            info = api.repo_info(probe["repoId"], repo_type=probe["repoType"], revision=probe["revision"])
            expect(info.sha == probe["commit"], "repo_info sha %s" % info.sha)
            paths = api.get_paths_info(probe["repoId"], probe["files"][:2] + ["does/not/exist"], repo_type=probe["repoType"], revision=probe["revision"])
            expect(sorted(p.path for p in paths) == sorted(probe["files"][:2]), "paths-info %s" % [p.path for p in paths])
            return "%d entries over pages of %d; repo_info and paths-info agree" % (len(entries), SPEC["pageSize"])
        guarded("list_repo_tree / repo_info / get_paths_info %s" % label(probe), tree)

try:
    if MODE == "read":
        read_checks()
    elif MODE == "write":
        write_checks()
    else:
        report("python mode", False, "unknown mode " + MODE)
except Exception:
    report("python checks crashed", False, traceback.format_exc())
`;

// ---------------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------------

/** Runs a child without blocking this event loop (the emulator lives in this process). */
function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', (error) => resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const rows = [];
let currentStep = '';
function record(check, ok, detail = '') {
  rows.push({ step: currentStep, check, ok, detail });
}
/** A check this huggingface_hub version has nothing for (e.g. trees/ before the tree cache existed). */
function skip(check, why) {
  rows.push({ step: currentStep, check, ok: true, skipped: true, detail: why });
}
/** A difference this huggingface_hub version shows that is understood and documented (not a failure). */
function known(check, detail) {
  rows.push({ step: currentStep, check, ok: true, known: true, detail });
}
const NO_TREE_CACHE = 'this huggingface_hub has no tree cache (trees/<commit>.json, IncompleteSnapshotError)';

function tail(text, n = 600) {
  const t = text.trim();
  return t.length > n ? `…${t.slice(-n)}` : t;
}

/** Debian's docker-registry on 127.0.0.1 with storage under `dir`. */
async function startRegistry(dir) {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  const config = path.join(dir, 'registry.yml');
  await fs.writeFile(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'registry-data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)) return { address: `127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('docker-registry did not start');
}

function baseEnv(hub, cacheDir, hfHome) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(HF_|HUGGINGFACE_|TRANSFORMERS_)/.test(k)) delete env[k];
  }
  return {
    ...env,
    HF_ENDPOINT: hub.url,
    HF_HOME: hfHome,
    HF_HUB_CACHE: cacheDir,
    HF_TOKEN: DEFAULT_TOKEN,
    HF_HUB_DISABLE_PROGRESS_BARS: '1',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}

let workDir = '';
let specCount = 0;
async function runPython(mode, spec, env) {
  const specPath = path.join(workDir, `spec-${++specCount}.json`);
  await fs.writeFile(specPath, JSON.stringify({ knownScanWarnings, ...spec }));
  const out = await run(python, ['-c', PYTHON_CHECKS, mode, specPath], env);
  let lines = 0;
  for (const line of out.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line);
    if (typeof r.check !== 'string') continue;
    lines++;
    if (r.known) known(`python: ${r.check}`, r.detail);
    else record(`python: ${r.check}`, r.ok, r.detail);
  }
  if (out.code !== 0 || lines === 0) record(`python ${mode} run`, false, `exit ${out.code}: ${tail(out.stderr)}`);
}

async function mlcache(args, env) {
  const out = await run(process.execPath, [mlcacheBin, ...args], env);
  const json = out.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  return { ...out, result: json.findLast((j) => j.type === 'result') };
}

async function digestsFor(hub, repoId, type, revision, paths) {
  return Promise.all(
    paths.map(async (p) => {
      const d = await hub.digestOf(repoId, p, revision, type);
      return { path: p, size: d.size, sha256: d.sha256, blob: d.etag, lfs: d.lfs, gitSha1: d.gitSha1 };
    }),
  );
}

/** What a cache should hold: repo → commit → {refs, files}. */
class ExpectedState {
  repos = new Map();
  add(repoId, repoType, commit, ref, files) {
    const key = `${repoType}:${repoId}`;
    if (!this.repos.has(key)) this.repos.set(key, { repoId, repoType, revisions: new Map() });
    const revs = this.repos.get(key).revisions;
    if (!revs.has(commit)) revs.set(commit, { commit, refs: new Set(), files: new Map() });
    const rev = revs.get(commit);
    if (ref !== undefined && !/^[0-9a-f]{40}$/.test(ref)) rev.refs.add(ref);
    for (const f of files) rev.files.set(f.path, f);
  }
  toJSON() {
    return [...this.repos.values()].map((r) => ({
      repoId: r.repoId,
      repoType: r.repoType,
      revisions: [...r.revisions.values()].map((v) => ({ commit: v.commit, refs: [...v.refs], files: [...v.files.values()] })),
    }));
  }
}

function folderOf(cacheDir, repoId, type) {
  return path.join(cacheDir, `${type}s--${repoId.replaceAll('/', '--')}`);
}

async function symlinkMap(dir) {
  const out = new Map();
  async function walk(d, rel) {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) out.set(r, await fs.readlink(p));
      else if (e.isDirectory()) await walk(p, r);
      else out.set(r, '(regular file)');
    }
  }
  await walk(dir, '');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const probe = await run(
  python,
  ['-c', 'import importlib.util, json, huggingface_hub; print(json.dumps({"version": huggingface_hub.__version__, "file": huggingface_hub.__file__, "treeCache": importlib.util.find_spec("huggingface_hub._tree_cache") is not None}))'],
  process.env,
);
if (probe.code !== 0) {
  process.stderr.write(
    `interop-python: cannot import huggingface_hub with ${python} (exit ${probe.code}).\n${tail(probe.stderr, 400)}\n` +
      'Install it (pip install huggingface_hub) or put a source checkout on PYTHONPATH, then run `npm run interop:python` again.\n',
  );
  process.exit(2);
}
const pyInfo = JSON.parse(probe.stdout.trim().split('\n').pop());
const [pyMajor, pyMinor] = String(pyInfo.version).split('.').map(Number);
const atLeast = (major, minor) => pyMajor > major || (pyMajor === major && pyMinor >= minor);
// No known scan warnings: huggingface_hub < 1.9 warns "Repo path is not a directory" about a
// CACHEDIR.TAG at the cache root (utils/_cache_manager.py::scan_cache_dir; skipped since 1.9,
// huggingface_hub#4036), which is why mlcache does not write one (docs/decisions.md). Any warning
// is a failure.
const knownScanWarnings = [];
// huggingface_hub 0.x (requests) does not resume a body cut short: file_download.py::http_get catches
// only requests.ConnectionError/ReadTimeout, and a cut body raises ChunkedEncodingError.
const resumesCutBodies = atLeast(1, 0);

workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlcache-interop-python-'));
const hub = await createHubEmulator({ repos, pageSize: 2 });
const started = Date.now();

try {
  const commit = (id, ref, type = 'model') => hub.commitOf(id, ref, type);
  const C = {
    main: commit(MODEL, 'main'),
    v1: commit(MODEL, 'v1.0'),
    pr1: commit(MODEL, 'refs/pr/1'),
    dev: commit(MODEL, 'dev'),
    data: commit(DATASET, 'main', 'dataset'),
    single: commit(SINGLE, 'main'),
  };
  const D = {
    main: await digestsFor(hub, MODEL, 'model', 'main', filesAt(MODEL, 'main')),
    v1: await digestsFor(hub, MODEL, 'model', 'v1.0', filesAt(MODEL, 'v1.0')),
    pr1: await digestsFor(hub, MODEL, 'model', 'refs/pr/1', filesAt(MODEL, 'refs/pr/1')),
    dev: await digestsFor(hub, MODEL, 'model', 'dev', filesAt(MODEL, 'dev')),
    data: await digestsFor(hub, DATASET, 'dataset', 'main', filesAt(DATASET, 'main')),
    single: await digestsFor(hub, SINGLE, 'model', 'main', filesAt(SINGLE, 'main')),
  };
  const pick = (list, ...paths) => list.filter((f) => paths.includes(f.path));
  const item = (repoId, repoType, revision, commitHash, files, snapshot) => ({ repoId, repoType, revision, commit: commitHash, files, snapshot });

  // ---------------- Step 1: mlcache → Python ----------------
  currentStep = '1 mlcache→py';
  const cacheA = path.join(workDir, 'cache-mlcache');
  const envA = baseEnv(hub, cacheA, path.join(workDir, 'home-a'));
  const downloads = [
    { args: [MODEL], commit: C.main },
    { args: [MODEL, '--revision', 'v1.0'], commit: C.v1 },
    { args: [MODEL, '--revision', 'refs/pr/1'], commit: C.pr1 },
    { args: [MODEL, '--revision', C.dev], commit: C.dev },
    { args: [DATASET, '--repo-type', 'dataset'], commit: C.data, type: 'dataset' },
    { args: [SINGLE, '--include', 'config.json'], commit: C.single },
  ];
  for (const d of downloads) {
    const out = await mlcache(['download', ...d.args, '--json'], envA);
    const want = path.join(folderOf(cacheA, d.args[0], d.type ?? 'model'), 'snapshots', d.commit);
    record(`mlcache download ${d.args.join(' ')}`, out.code === 0 && out.result?.snapshotPath === want, out.code === 0 ? `${out.result?.files?.length} files, ${out.result?.bytesFetched} B fetched` : `exit ${out.code}: ${tail(out.stderr)}`);
  }
  const stateA = new ExpectedState();
  stateA.add(MODEL, 'model', C.main, 'main', D.main);
  stateA.add(MODEL, 'model', C.v1, 'v1.0', D.v1);
  stateA.add(MODEL, 'model', C.pr1, 'refs/pr/1', D.pr1);
  stateA.add(MODEL, 'model', C.dev, C.dev, D.dev);
  stateA.add(DATASET, 'dataset', C.data, 'main', D.data);
  stateA.add(SINGLE, 'model', C.single, 'main', pick(D.single, 'config.json'));
  const offlineA = { ...envA, HF_HUB_OFFLINE: '1' };
  await runPython(
    'read',
    {
      cacheDir: cacheA,
      state: stateA.toJSON(),
      lookups: [
        item(MODEL, 'model', 'main', C.main, D.main, {}),
        item(MODEL, 'model', C.main, C.main, pick(D.main, 'sub/dir/weights.bin', 'sub/dir/vocab.txt', 'sub/naïve file.txt'), {}),
        item(MODEL, 'model', 'v1.0', C.v1, D.v1, {}),
        item(MODEL, 'model', 'refs/pr/1', C.pr1, D.pr1, {}),
        item(MODEL, 'model', C.dev, C.dev, D.dev, {}),
        item(DATASET, 'dataset', 'main', C.data, D.data, {}),
        item(DATASET, 'dataset', C.data, C.data, pick(D.data, 'data/train.parquet'), { allowPatterns: ['data/*'] }),
        item(SINGLE, 'model', 'main', C.single, pick(D.single, 'config.json'), { allowPatterns: ['config.json'] }),
      ],
      incompleteSnapshots: pyInfo.treeCache ? [item(SINGLE, 'model', 'main', C.single, [])] : [],
      absent: [
        { repoId: MODEL, repoType: 'model', revision: 'dev', path: 'config.json', why: 'downloaded by commit: no refs/dev, as in Python' },
        { repoId: SINGLE, repoType: 'model', revision: 'main', path: 'pytorch_model.bin', why: 'excluded by --include' },
      ],
    },
    offlineA,
  );

  // Python online on top of mlcache's cache: every blob is already there.
  hub.resetStats();
  await runPython(
    'write',
    {
      cacheDir: cacheA,
      pageSize: 2,
      actions: [
        { kind: 'snapshot', ...item(MODEL, 'model', 'main', C.main, D.main) },
        { kind: 'snapshot', ...item(DATASET, 'dataset', 'main', C.data, D.data) },
        { kind: 'file', ...item(MODEL, 'model', 'refs/pr/1', C.pr1, D.pr1) },
      ],
    },
    envA,
  );
  {
    const gets = hub.stats.requests.filter((r) => r.method === 'GET' && (r.origin === 'cdn' || r.url.includes('/resolve/')));
    record('python online on top of mlcache: 0 file bytes served, no file GET', hub.stats.bytesServed === 0 && gets.length === 0, `${hub.stats.bytesServed} B, ${gets.length} GET(s) ${gets.map((g) => g.url).join(' ')}`);
    const bad = hub.stats.requests.filter((r) => r.status >= 400);
    record('emulator: no 4xx/5xx to python', bad.length === 0, bad.map((r) => `${r.method} ${r.url} → ${r.status}`).join('; '));
  }

  // No-symlink caches (HF_HUB_DISABLE_SYMLINKS=1): mlcache copies blobs into snapshots/.
  {
    const cacheC = path.join(workDir, 'cache-mlcache-copies');
    const envC = { ...baseEnv(hub, cacheC, path.join(workDir, 'home-c')), HF_HUB_DISABLE_SYMLINKS: '1' };
    const out = await mlcache(['download', SINGLE, '--json'], envC);
    record('mlcache download interop-single with HF_HUB_DISABLE_SYMLINKS=1', out.code === 0, out.code === 0 ? `${out.result?.files?.length} files copied` : `exit ${out.code}: ${tail(out.stderr)}`);
    const stateC = new ExpectedState();
    stateC.add(SINGLE, 'model', C.single, 'main', D.single);
    await runPython(
      'read',
      { cacheDir: cacheC, copies: true, state: stateC.toJSON(), lookups: [item(SINGLE, 'model', 'main', C.single, D.single, {})] },
      { ...envC, HF_HUB_OFFLINE: '1' },
    );
  }

  // ---------------- Step 1b: through an OCI registry → Python ----------------
  // mlcache push of step 1's snapshots to Debian's docker-registry on loopback, mlcache pull into
  // an empty cache: Python reads the pulled cache offline exactly as it read the downloaded one.
  currentStep = '1b registry→py';
  if (existsSync('/usr/bin/docker-registry')) {
    const registry = await startRegistry(workDir);
    try {
      const cacheP = path.join(workDir, 'cache-pulled');
      const envP = baseEnv(hub, cacheP, path.join(workDir, 'home-p'));
      const moves = [
        { repo: MODEL, type: 'model', name: 'interop/tiny-model', tag: 'main' },
        { repo: DATASET, type: 'dataset', name: 'datasets/interop/tiny-data', tag: 'main' },
        { repo: SINGLE, type: 'model', name: 'interop-single', tag: 'main' },
      ];
      for (const m of moves) {
        const target = `oci://${registry.address}/${m.name}`;
        const pushed = await mlcache(['push', m.repo, target, '--repo-type', m.type, '--json'], envA);
        record(`mlcache push ${m.repo}`, pushed.code === 0, pushed.code === 0 ? `${pushed.result?.layers} layers` : `exit ${pushed.code}: ${tail(pushed.stderr)}`);
        const pulled = await mlcache(['pull', `${target}:${m.tag}`, '--json'], envP);
        record(`mlcache pull ${m.repo}`, pulled.code === 0, pulled.code === 0 ? `${pulled.result?.files?.length} files` : `exit ${pulled.code}: ${tail(pulled.stderr)}`);
      }
      const stateP = new ExpectedState();
      stateP.add(MODEL, 'model', C.main, 'main', D.main);
      stateP.add(DATASET, 'dataset', C.data, 'main', D.data);
      stateP.add(SINGLE, 'model', C.single, 'main', pick(D.single, 'config.json'));
      await runPython(
        'read',
        {
          cacheDir: cacheP,
          state: stateP.toJSON(),
          lookups: [
            item(MODEL, 'model', 'main', C.main, D.main, {}),
            item(DATASET, 'dataset', 'main', C.data, D.data, {}),
            item(SINGLE, 'model', 'main', C.single, pick(D.single, 'config.json'), { allowPatterns: ['config.json'] }),
          ],
          incompleteSnapshots: pyInfo.treeCache ? [item(SINGLE, 'model', 'main', C.single, [])] : [],
          absent: [{ repoId: SINGLE, repoType: 'model', revision: 'main', path: 'pytorch_model.bin', why: 'not in the pushed snapshot (--include)' }],
        },
        { ...envP, HF_HUB_OFFLINE: '1' },
      );
    } finally {
      registry.stop();
    }
  } else {
    skip('registry round trip', 'Debian docker-registry is not installed');
  }

  // ---------------- Step 2: Python → mlcache ----------------
  currentStep = '2 py→mlcache';
  const cacheB = path.join(workDir, 'cache-python');
  const envB = baseEnv(hub, cacheB, path.join(workDir, 'home-b'));
  const bigSha = D.main.find((f) => f.path === 'big/shard-00001.bin').sha256;
  hub.resetStats();
  // Step 3 inside step 2: the connection to the CDN drops mid-body; Python resumes with a Range.
  // Python only counts bytes its 10 MiB read chunks handed over (file_download.py::http_get,
  // DOWNLOAD_CHUNK_SIZE), so a drop at 25 MiB resumes from 20 MiB; one under 10 MiB restarts at 0.
  if (resumesCutBodies) hub.setFaults({ rules: [{ match: { origin: 'cdn', path: bigSha }, action: { kind: 'drop', afterBytes: 25 * MiB }, times: 1 }] });
  await runPython(
    'write',
    {
      cacheDir: cacheB,
      pageSize: 2,
      actions: [
        { kind: 'snapshot', allowLog: true, ...item(MODEL, 'model', 'main', C.main, D.main) },
        { kind: 'file', ...item(MODEL, 'model', 'v1.0', C.v1, pick(D.v1, 'config.json')) },
        { kind: 'snapshot', ...item(MODEL, 'model', 'refs/pr/1', C.pr1, D.pr1) },
        { kind: 'file', ...item(MODEL, 'model', C.dev, C.dev, pick(D.dev, 'sub/dir/vocab.txt')) },
        { kind: 'snapshot', ...item(DATASET, 'dataset', 'main', C.data, D.data) },
        { kind: 'file', ...item(SINGLE, 'model', 'main', C.single, D.single) },
        { kind: 'missing', repoId: MODEL, repoType: 'model', revision: 'main', path: 'nope.txt' },
      ],
      metadata: [
        { repoId: MODEL, repoType: 'model', revision: 'main', path: 'model.safetensors', commit: C.main, ...pick(D.main, 'model.safetensors').map((f) => ({ etag: f.sha256, size: f.size, lfs: true }))[0] },
        { repoId: MODEL, repoType: 'model', revision: 'refs/pr/1', path: 'config.json', commit: C.pr1, ...pick(D.pr1, 'config.json').map((f) => ({ etag: f.gitSha1, size: f.size, lfs: false }))[0] },
        { repoId: MODEL, repoType: 'model', revision: 'main', path: 'sub/naïve file.txt', commit: C.main, ...pick(D.main, 'sub/naïve file.txt').map((f) => ({ etag: f.gitSha1, size: f.size, lfs: false }))[0] },
        { repoId: DATASET, repoType: 'dataset', revision: 'main', path: 'data/train.parquet', commit: C.data, ...pick(D.data, 'data/train.parquet').map((f) => ({ etag: f.sha256, size: f.size, lfs: true }))[0] },
      ],
      trees: [
        { repoId: MODEL, repoType: 'model', revision: 'main', commit: C.main, files: filesAt(MODEL, 'main') },
        { repoId: MODEL, repoType: 'model', revision: 'refs/pr/1', commit: C.pr1, files: filesAt(MODEL, 'refs/pr/1') },
        { repoId: DATASET, repoType: 'dataset', revision: 'main', commit: C.data, files: filesAt(DATASET, 'main') },
      ],
    },
    envB,
  );
  hub.setFaults({});
  {
    const bigGets = hub.stats.requests.filter((r) => r.origin === 'cdn' && r.method === 'GET' && r.url.includes(bigSha));
    const resumed = bigGets.find((r) => typeof r.headers.range === 'string' && r.headers.range.startsWith('bytes='));
    const m = resumed && /^bytes=(\d+)-$/.exec(resumed.headers.range);
    const ok = bigGets.length === 2 && m !== null && m !== undefined && resumed.status === 206 && Number(m[1]) + resumed.bytesSent === 70 * MiB;
    if (resumesCutBodies) record('python resumes a dropped CDN body with Range → 206 (emulator)', ok, bigGets.map((r) => `${r.status} range=${r.headers.range ?? '-'} sent=${r.bytesSent}`).join('; '));
    else skip('python resumes a dropped CDN body with Range → 206 (emulator)', 'huggingface_hub 0.x does not resume a cut body (ChunkedEncodingError)');
    const cdnAuth = hub.stats.requests.filter((r) => r.origin === 'cdn' && r.headers.authorization !== undefined);
    record('python sends no Authorization to the CDN origin', cdnAuth.length === 0, `${cdnAuth.length} CDN request(s) with a token`);
    const bad = hub.stats.requests.filter((r) => r.status >= 400 && !r.url.includes('nope.txt'));
    record('emulator: no 4xx/5xx to python but the missing file', bad.length === 0, bad.map((r) => `${r.method} ${r.url} → ${r.status}`).join('; '));
  }

  const stateB = new ExpectedState();
  stateB.add(MODEL, 'model', C.main, 'main', D.main);
  stateB.add(MODEL, 'model', C.v1, 'v1.0', pick(D.v1, 'config.json'));
  stateB.add(MODEL, 'model', C.pr1, 'refs/pr/1', D.pr1);
  stateB.add(MODEL, 'model', C.dev, C.dev, pick(D.dev, 'sub/dir/vocab.txt'));
  stateB.add(DATASET, 'dataset', C.data, 'main', D.data);
  stateB.add(SINGLE, 'model', C.single, 'main', D.single);

  // Byte-level: what both tools wrote for the same commits.
  for (const [repoId, type, c] of [
    [MODEL, 'model', C.main],
    [MODEL, 'model', C.pr1],
    [DATASET, 'dataset', C.data],
  ]) {
    const rel = path.join('trees', `${c}.json`);
    if (!pyInfo.treeCache) skip(`trees/${c.slice(0, 12)}.json of ${repoId}: mlcache bytes == python bytes`, NO_TREE_CACHE);
    else {
    const [a, b] = await Promise.all([fs.readFile(path.join(folderOf(cacheA, repoId, type), rel)), fs.readFile(path.join(folderOf(cacheB, repoId, type), rel)).catch(() => null)]);
    record(`trees/${c.slice(0, 12)}.json of ${repoId}: mlcache bytes == python bytes`, b !== null && a.equals(b), b === null ? 'python wrote none' : `${a.length} vs ${b.length} B`);
    }
    const [la, lb] = await Promise.all([symlinkMap(path.join(folderOf(cacheA, repoId, type), 'snapshots', c)), symlinkMap(path.join(folderOf(cacheB, repoId, type), 'snapshots', c))]);
    const diff = [...new Set([...la.keys(), ...lb.keys()])].filter((k) => la.get(k) !== lb.get(k));
    record(`snapshots/${c.slice(0, 12)} of ${repoId}: same relative symlink targets`, diff.length === 0, diff.length === 0 ? `${la.size} links` : diff.map((k) => `${k}: ${la.get(k)} vs ${lb.get(k)}`).join('; '));
  }
  for (const ref of ['main', 'v1.0', path.join('refs', 'pr', '1')]) {
    const [a, b] = await Promise.all([fs.readFile(path.join(folderOf(cacheA, MODEL, 'model'), 'refs', ref), 'utf8'), fs.readFile(path.join(folderOf(cacheB, MODEL, 'model'), 'refs', ref), 'utf8')]);
    record(`refs/${ref}: mlcache bytes == python bytes`, a === b, JSON.stringify(b));
  }

  const catalogPath = path.join(workDir, 'interop-catalog.json');
  await fs.writeFile(
    catalogPath,
    JSON.stringify({
      version: 1,
      groups: {
        interop: {
          entries: [
            { name: 'model-main', repo: MODEL, revision: 'main', purpose: 'interop' },
            { name: 'model-v1', repo: MODEL, revision: 'v1.0', include: ['config.json'], purpose: 'interop' },
            { name: 'model-pr1', repo: MODEL, revision: 'refs/pr/1', purpose: 'interop' },
            { name: 'model-dev', repo: MODEL, revision: C.dev, include: ['sub/dir/vocab.txt'], purpose: 'interop' },
            { name: 'data', repo: DATASET, type: 'dataset', revision: 'main', purpose: 'interop' },
            { name: 'single', repo: SINGLE, revision: 'main', purpose: 'interop' },
          ],
        },
      },
    }),
  );
  const offlineB = { ...envB, HF_HUB_OFFLINE: '1' };
  const maint = ['--catalog', catalogPath, '--group', 'interop', '--json'];
  {
    const out = await mlcache(['status', ...maint, '--all-repos'], offlineB);
    const entries = out.result?.groups?.flatMap((g) => g.entries) ?? [];
    const commits = { 'model-main': C.main, 'model-v1': C.v1, 'model-pr1': C.pr1, 'model-dev': C.dev, data: C.data, single: C.single };
    const wrong = entries.filter((e) => !e.ok || e.commit !== commits[e.name]);
    const warnings = (out.result?.repos ?? []).flatMap((r) => r.warnings);
    const bytes = out.result?.totals?.hubCache?.bytes;
    const wantBytes = stateB
      .toJSON()
      .map((r) => new Map(r.revisions.flatMap((v) => v.files.map((f) => [f.blob, f.size]))))
      .reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0);
    record(
      'mlcache status reads the python cache (commits, files, sizes)',
      out.code === 0 && entries.length === 6 && wrong.length === 0 && warnings.length === 0 && bytes === wantBytes,
      out.code !== 0 ? `exit ${out.code}: ${tail(out.stderr)}` : `${entries.length} entries, ${wrong.length} wrong (${wrong.map((e) => `${e.name}: ${e.problems?.join(', ')}`).join('; ')}), ${warnings.length} warnings ${warnings.map((w) => w.message ?? JSON.stringify(w)).join('; ')}, ${bytes} B (expected ${wantBytes})`,
    );
  }
  {
    const out = await mlcache(['verify', '--json'], offlineB);
    const distinctBlobs = stateB.toJSON().reduce((n, r) => n + new Set(r.revisions.flatMap((v) => v.files.map((f) => f.blob))).size, 0);
    const findings = out.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"type":"finding"'))
      .map((l) => JSON.parse(l))
      .filter((f) => f.severity !== 'info');
    record(
      'mlcache verify: python cache intact, every blob re-hashed, no warnings',
      out.code === 0 && out.result?.intact === true && out.result?.filesHashed === distinctBlobs && findings.length === 0,
      `exit ${out.code}, ${out.result?.filesHashed} hashed (expected ${distinctBlobs}), ${findings.map((f) => `${f.kind}: ${f.message}`).join('; ') || 'no findings'}${out.code === 0 ? '' : `: ${tail(out.stderr)}`}`,
    );
  }
  {
    const out = await mlcache(['offline-check', ...maint], offlineB);
    const failed = (out.result?.entries ?? []).filter((e) => !e.ok);
    record('mlcache offline-check: every python-downloaded entry resolves offline', out.code === 0 && out.result?.checked === 6 && failed.length === 0, out.code === 0 ? `${out.result?.checked} entries` : `exit ${out.code}: ${failed.map((e) => `${e.name}: ${e.problems?.join(', ')}`).join('; ') || tail(out.stderr)}`);
  }

  // mlcache download on top of Python's cache: nothing Python fetched is fetched again.
  hub.resetStats();
  for (const args of [[MODEL], [MODEL, '--revision', 'refs/pr/1'], [DATASET, '--repo-type', 'dataset'], [SINGLE]]) {
    const out = await mlcache(['download', ...args, '--json'], envB);
    record(`mlcache download ${args.join(' ')} on top: 0 B fetched`, out.code === 0 && out.result?.bytesFetched === 0, out.code === 0 ? `${out.result?.bytesCached} B already cached` : `exit ${out.code}: ${tail(out.stderr)}`);
  }
  {
    const gets = hub.stats.requests.filter((r) => r.method === 'GET' && (r.origin === 'cdn' || r.url.includes('/resolve/')));
    record('emulator: 0 file bytes served, no file GET, for the four downloads above', hub.stats.bytesServed === 0 && gets.length === 0, `${hub.stats.bytesServed} B, ${gets.length} GET(s)`);
  }
  hub.resetStats();
  {
    const out = await mlcache(['download', MODEL, '--revision', 'v1.0', '--json'], envB);
    const want = D.v1.find((f) => f.path === 'model.safetensors').size;
    record('mlcache download v1.0 on top: only the file python lacked', out.code === 0 && out.result?.bytesFetched === want && hub.stats.bytesServed === want, `fetched ${out.result?.bytesFetched} B, served ${hub.stats.bytesServed} B (expected ${want})`);
    stateB.add(MODEL, 'model', C.v1, 'v1.0', D.v1);
  }

  await runPython(
    'read',
    {
      cacheDir: cacheB,
      state: stateB.toJSON(),
      lookups: [
        item(MODEL, 'model', 'main', C.main, D.main, {}),
        item(MODEL, 'model', 'v1.0', C.v1, D.v1, {}),
        item(MODEL, 'model', 'refs/pr/1', C.pr1, D.pr1, {}),
        item(MODEL, 'model', C.dev, C.dev, pick(D.dev, 'sub/dir/vocab.txt')),
        item(DATASET, 'dataset', 'main', C.data, D.data, {}),
        item(SINGLE, 'model', 'main', C.single, D.single, {}),
      ],
      noExist: [{ repoId: MODEL, repoType: 'model', revision: 'main', path: 'nope.txt' }],
    },
    offlineB,
  );
  {
    const out = await mlcache(['verify', '--json'], offlineB);
    record('mlcache verify after the mixed writes', out.code === 0 && out.result?.intact === true, out.code === 0 ? `${out.result?.filesHashed} hashed` : `exit ${out.code}: ${tail(out.stderr)}`);
  }
} catch (error) {
  record('interop script', false, error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  await hub.close();
  if (keep) process.stderr.write(`kept ${workDir}\n`);
  else await fs.rm(workDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const width = Math.min(100, Math.max(...rows.map((r) => r.check.length)));
process.stdout.write(`huggingface_hub ${pyInfo.version} (${pyInfo.file})\n\n`);
for (const r of rows) {
  const detail = r.detail ? `  ${r.detail.replaceAll('\n', ' ')}` : '';
  process.stdout.write(`${r.skipped ? 'SKIP' : r.known ? 'KNWN' : r.ok ? 'PASS' : 'FAIL'}  ${r.step.padEnd(13)} ${r.check.padEnd(width)}${r.ok ? detail.slice(0, 120) : detail}\n`);
}
const failed = rows.filter((r) => !r.ok).length;
const skipped = rows.filter((r) => r.skipped).length;
const knownCount = rows.filter((r) => r.known).length;
process.stdout.write(`\n${rows.length - failed - skipped - knownCount} passed, ${failed} failed, ${skipped} skipped, ${knownCount} known differences (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
process.exitCode = failed === 0 ? 0 : 1;
