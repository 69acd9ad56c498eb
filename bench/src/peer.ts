/** One peer's process: `node peer.js <peer> <workload>...` prints `RESULT <json>`. */
import type { Measurement } from './workloads.js';

const [peer, ...workloads] = process.argv.slice(2);
let results: Measurement[];
if (peer === 'ours-cpu' || peer === 'ours-webgpu') {
  const { runOurs } = await import('./peers/ours.js');
  results = await runOurs(peer === 'ours-cpu' ? 'cpu' : 'webgpu', workloads);
} else if (peer === 'tfjs-cpu' || peer === 'tfjs-wasm' || peer === 'tfjs-webgpu') {
  const { runTfjs } = await import('./peers/tfjs.js');
  results = await runTfjs(peer.slice(5) as 'cpu' | 'wasm' | 'webgpu', workloads);
} else {
  throw new Error(`unknown peer '${peer}'`);
}
console.log(`RESULT ${JSON.stringify(results)}`);
process.exit(0); // Dawn may keep the event loop alive
