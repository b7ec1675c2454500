// Reference speed of face-api.js (@vladmandic/face-api 1.7.15) in Node.
//
//   node bench.mjs <image-folder> <count> [--backend cpu|wasm] [--warmup N] [--golden detections.json]
//
// Decodes <count> images of <image-folder> (every *.jpg below it, sorted by path, sampled
// evenly when <count> is smaller than the folder) to 8-bit RGB with sharp BEFORE timing, then
// times, per image: tf.tensor3d(rgb, [h, w, 3], 'int32') +
// detectSingleFace(input, TinyFaceDetectorOptions({inputSize: 320, scoreThreshold: 0.5}))
//   .withFaceLandmarks(true).withFaceDescriptor()
// (the pipeline of /work/shared/golden/README.md). Prints one JSON object on stdout.
//
// Backends:
//   cpu  - dist/face-api.esm.js with its bundled tfjs 4.22.0, tfjs' plain-JS float32 kernels
//          (single-threaded JavaScript). This is the configuration the golden data came from.
//   wasm - dist/face-api.node-wasm.js (same face-api code, built against the npm
//          @tensorflow/tfjs 4.22.0) + @tensorflow/tfjs-backend-wasm 4.22.0 (XNNPACK), forced
//          single-threaded (no multithread wasm binary, setThreadsCount(1)).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import nodeUtil from 'node:util';
import sharp from 'sharp';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function usage(msg) {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write('usage: node bench.mjs <image-folder> <count> [--backend cpu|wasm] [--warmup N] [--golden detections.json]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
const pos = [];
const opt = { backend: 'cpu', warmup: 5, golden: null };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--backend') opt.backend = args[++i];
  else if (a === '--warmup') opt.warmup = Number(args[++i]);
  else if (a === '--golden') opt.golden = args[++i];
  else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else pos.push(a);
}
if (pos.length !== 2) usage();
const folder = path.resolve(pos[0]);
const count = Number(pos[1]);
if (!Number.isInteger(count) || count < 1) usage('count must be a positive integer');
if (!['cpu', 'wasm'].includes(opt.backend)) usage('backend must be cpu or wasm');
if (!Number.isInteger(opt.warmup) || opt.warmup < 0) usage('--warmup must be a non-negative integer');

// ---------------------------------------------------------------- face-api + backend
let faceapi;
let wasmInfo = null;
if (opt.backend === 'cpu') {
  // The ESM bundle is built for browsers: its 'util' import is an empty stub, so tfjs' Node
  // platform (selected because process.versions.node exists) fails in its constructor with
  // "this.util.TextEncoder is not a constructor". Let that constructor find TextEncoder for the
  // duration of the import, then give the platform Node's real util module.
  Object.prototype.TextEncoder = TextEncoder; // eslint-disable-line no-extend-native
  try {
    faceapi = await import('@vladmandic/face-api/dist/face-api.esm.js');
  } finally {
    delete Object.prototype.TextEncoder;
  }
  const platform = faceapi.tf.env().platform;
  platform.util = nodeUtil;
  platform.textEncoder = new nodeUtil.TextEncoder();
  await faceapi.tf.setBackend('cpu');
  await faceapi.tf.ready();
} else {
  faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const tf = faceapi.tf;
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  // Single-threaded: do not pick the threaded-simd binary, and ask for one thread anyway.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('could not initialise the wasm backend');
  await tf.ready();
  wasmInfo = {
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    threads: wasm.getThreadsCount(),
  };
}
const tf = faceapi.tf;
if (tf.getBackend() !== opt.backend) throw new Error(`backend is ${tf.getBackend()}, wanted ${opt.backend}`);

// Weights: the package's model/ folder, loaded as in the golden data (decodeWeights + loadFromWeightMap).
const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
function loadNet(net, name) {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`), 'utf8'));
  const specs = manifest.flatMap((g) => g.weights);
  const bin = Buffer.concat(manifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(modelDir, p))));
  const ab = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  net.loadFromWeightMap(tf.io.decodeWeights(ab, specs));
}
loadNet(faceapi.nets.tinyFaceDetector, 'tiny_face_detector_model');
loadNet(faceapi.nets.faceLandmark68TinyNet, 'face_landmark_68_tiny_model');
loadNet(faceapi.nets.faceRecognitionNet, 'face_recognition_model');

// Per-stage timing: wrap the three networks' entry points that the composite task calls
// (tinyFaceDetector.locateFaces, faceLandmark68TinyNet.detectLandmarks,
// faceRecognitionNet.computeFaceDescriptor). Images are processed one at a time, so each
// call's interval holds only that network's work (preprocessing of its input included).
// What remains of the total (cutting the face crops for the landmark and recognition nets,
// the alignment, creating the input tensor) is reported as "other".
const stage = { detect: 0, landmarks: 0, descriptor: 0 };
const calls = { detect: 0, landmarks: 0, descriptor: 0 };
let timing = false;
function wrap(obj, method, key) {
  const orig = obj[method].bind(obj);
  obj[method] = async (...a) => {
    const t0 = performance.now();
    const r = await orig(...a);
    if (timing) { stage[key] += performance.now() - t0; calls[key] += 1; }
    return r;
  };
}
wrap(faceapi.nets.tinyFaceDetector, 'locateFaces', 'detect');
wrap(faceapi.nets.faceLandmark68TinyNet, 'detectLandmarks', 'landmarks');
wrap(faceapi.nets.faceRecognitionNet, 'computeFaceDescriptor', 'descriptor');

// ---------------------------------------------------------------- images (decoded before timing)
function listJpgs(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listJpgs(p));
    else if (e.isFile() && e.name.toLowerCase().endsWith('.jpg')) out.push(p);
  }
  return out;
}
const all = listJpgs(folder).sort();
if (all.length === 0) usage(`no .jpg below ${folder}`);
const n = Math.min(count, all.length);
const picked = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);

async function decode(p) {
  // 8-bit sRGB, 3 channels, no EXIF rotation (sharp only rotates when .rotate() is called).
  const { data, info } = await sharp(p).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${p}: ${info.channels} channels`);
  return { path: p, width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
const imgs = [];
for (const p of picked) imgs.push(await decode(p));
const warm = [];
for (let i = 0; i < opt.warmup; i++) warm.push(imgs[i % imgs.length]);

const detOpts = new faceapi.TinyFaceDetectorOptions({ inputSize: 320, scoreThreshold: 0.5 });
async function run(img) {
  const input = tf.tensor3d(img.rgb, [img.height, img.width, 3], 'int32');
  try {
    return await faceapi.detectSingleFace(input, detOpts).withFaceLandmarks(true).withFaceDescriptor();
  } finally {
    input.dispose();
  }
}

// ---------------------------------------------------------------- warm-up, then timed run
for (const img of warm) await run(img);
const tensorsBefore = tf.memory().numTensors;

const results = new Array(imgs.length);
const perImage = new Array(imgs.length);
timing = true;
const c0 = process.cpuUsage();
const w0 = performance.now();
for (let i = 0; i < imgs.length; i++) {
  const t0 = performance.now();
  results[i] = await run(imgs[i]);
  perImage[i] = performance.now() - t0;
}
const wallMs = performance.now() - w0;
const cpu = process.cpuUsage(c0);
timing = false;
const cpuS = (cpu.user + cpu.system) / 1e6;
const wallS = wallMs / 1000;

// ---------------------------------------------------------------- report
const sorted = [...perImage].sort((a, b) => a - b);
const q = (f) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
const r3 = (x) => Math.round(x * 1000) / 1000;
const faces = results.filter(Boolean).length;
const out = {
  backend: opt.backend,
  wasm: wasmInfo ?? undefined,
  library: '@vladmandic/face-api 1.7.15',
  bundle: opt.backend === 'cpu' ? 'dist/face-api.esm.js (bundled tfjs 4.22.0)' : 'dist/face-api.node-wasm.js + @tensorflow/tfjs 4.22.0 + @tensorflow/tfjs-backend-wasm 4.22.0',
  tfjs: tf.version_core ?? tf.version?.['tfjs-core'],
  node: process.version,
  pipeline: "tensor3d(rgb,'int32') + detectSingleFace(TinyFaceDetectorOptions{inputSize:320,scoreThreshold:0.5}).withFaceLandmarks(true).withFaceDescriptor()",
  folder,
  folder_images: all.length,
  images: imgs.length,
  warmup: warm.length,
  faces_found: faces,
  mean_pixels: Math.round(imgs.reduce((s, im) => s + im.width * im.height, 0) / imgs.length),
  wall_s: r3(wallS),
  cpu_s: r3(cpuS),
  cpu_user_s: r3(cpu.user / 1e6),
  cpu_system_s: r3(cpu.system / 1e6),
  images_per_s: r3(imgs.length / wallS),
  images_per_cpu_s: r3(imgs.length / cpuS),
  per_image_ms: { mean: r3(wallMs / imgs.length), p50: r3(q(0.5)), p90: r3(q(0.9)), max: r3(sorted[sorted.length - 1]) },
  per_stage_ms: {
    note: 'mean ms per call of each network (wall clock); other = total minus the three, per image',
    detect: r3(stage.detect / Math.max(1, calls.detect)),
    landmarks: r3(stage.landmarks / Math.max(1, calls.landmarks)),
    descriptor: r3(stage.descriptor / Math.max(1, calls.descriptor)),
    other_per_image: r3((wallMs - stage.detect - stage.landmarks - stage.descriptor) / imgs.length),
    calls,
  },
  leaked_tensors: tf.memory().numTensors - tensorsBefore,
};

// Optional sanity check against the golden outputs (outside the timed part): for images whose
// decoded RGB is byte-identical to the golden decode, the face box and descriptor must match.
if (opt.golden) {
  const g = JSON.parse(fs.readFileSync(opt.golden, 'utf8'));
  const gdir = path.resolve(path.dirname(opt.golden), '..', 'faces');
  const byPath = new Map(g.images.map((r) => [r.path, r]));
  let sameDecode = 0; let compared = 0; let presenceMismatch = 0; let maxL2 = 0; const l2s = [];
  let missing = 0;
  imgs.forEach((img, i) => {
    const rel = path.relative(gdir, img.path).split(path.sep).join('/');
    const ref = byPath.get(rel);
    if (!ref) { missing += 1; return; }
    if (crypto.createHash('sha256').update(img.rgb).digest('hex') !== ref.sha256) return;
    sameDecode += 1;
    const got = results[i];
    if (!!got !== !!ref.best320) { presenceMismatch += 1; return; }
    if (!got) return;
    compared += 1;
    const d = got.descriptor;
    const l2 = Math.sqrt(ref.best320.descriptor.reduce((s, v, k) => s + (v - d[k]) ** 2, 0));
    l2s.push(l2);
    maxL2 = Math.max(maxL2, l2);
  });
  l2s.sort((a, b) => a - b);
  out.golden_check = {
    images_not_in_golden: missing,
    decoded_identically: sameDecode,
    face_presence_mismatch: presenceMismatch,
    descriptors_compared: compared,
    descriptor_l2_median: l2s.length ? l2s[Math.floor(l2s.length / 2)] : null,
    descriptor_l2_max: l2s.length ? maxL2 : null,
    'descriptor_l2_over_1e-4': l2s.filter((x) => x > 1e-4).length,
  };
}

process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
