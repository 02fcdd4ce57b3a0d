// Bundle the compositions, or render one to an H.264 mp4: `node render.mjs job.json`.
// Called by renderers/remotion_clip.py. The job names the composition, its input props, the
// system Chromium and the scratch folders; nothing is written outside them (webpack's cache is
// off) and the page never reaches the network. Progress goes to stdout as `progress <0..1>`.
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {bundle} from '@remotion/bundler';
import {renderMedia, selectComposition} from '@remotion/renderer';

const here = path.dirname(fileURLToPath(import.meta.url));
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const fail = (stage, err) => {
  const message = err && err.stack ? err.stack : String(err);
  process.stderr.write(`SHOWRUNNER-ERROR ${JSON.stringify({stage, message: message.split('\n').slice(0, 8).join('\n')})}\n`);
  process.exit(3);
};

// A job either bundles (`bundle_only`, into `bundle_dir`) or renders from an existing bundle
// folder (`serve_url`): the bundle is its own cached step, shared by every Remotion scene.
let serveUrl = job.serve_url;
if (!serveUrl) {
  try {
    serveUrl = await bundle({
      entryPoint: path.join(here, 'src', 'index.ts'),
      outDir: job.bundle_dir,
      enableCaching: false,
      // no source maps: the bundle is stored in the cache, and maps would triple its size
      webpackOverride: (config) => ({...config, devtool: false}),
      onProgress: (p) => console.log(`progress ${job.bundle_only ? p / 100 : (p / 100) * 0.2}`),
    });
  } catch (err) {
    fail('bundle', err);
  }
}
if (job.bundle_only) {
  console.log(`bundled ${serveUrl}`);
  process.exit(0);
}

const common = {
  serveUrl,
  inputProps: job.props,
  browserExecutable: job.browser,
  chromeMode: 'chrome-for-testing',
  chromiumOptions: {gl: 'swangle', enableMultiProcessOnLinux: false},
  logLevel: 'error',
  timeoutInMilliseconds: 60000,
};

let composition;
try {
  composition = await selectComposition({...common, id: job.composition});
} catch (err) {
  fail('select', err);
}

try {
  await renderMedia({
    ...common,
    composition,
    codec: 'h264',
    crf: 18,
    pixelFormat: 'yuv420p',
    outputLocation: job.output,
    concurrency: job.concurrency || 1,
    muted: true,
    enforceAudioTrack: false,
    onProgress: ({progress}) => console.log(`progress ${job.serve_url ? progress : 0.2 + progress * 0.8}`),
  });
} catch (err) {
  fail('render', err);
}
console.log(`rendered ${composition.durationInFrames} frames ${composition.width}x${composition.height}@${composition.fps}`);
