/**
 * CPU time per iteration of the bench's char-lstm models on the CPU backend (process.cpuUsage: all threads, so a
 * shared machine's load moves it less than wall-clock time). `infer`: SeqLSTM x2 over 50 steps of 32 sequences,
 * evaluate(), ms per batch of 1600 tokens; `gen`: the same model at batch 1, one token at a time, SeqLSTM
 * remember('both'), the next token the argmax of the logits read back, ms per token. Uses the built packages:
 *
 *   npx tsc -b packages/rnn && node scripts/char-lstm-cpu-time.mjs infer|gen [iterations]
 *
 * Add --cpu-prof before the script name for a profile. Alternate before and after builds when comparing.
 */
import { memory, nn, tensor, tidy } from '../packages/rnn/dist/index.js';

const which = process.argv[2] ?? 'gen';
const iters = Number(process.argv[3] ?? (which === 'gen' ? 30 : 8));
const [vocab, embed, H, seq, batch, tokens] = [65, 64, 256, 50, 32, 100];
const model = new nn.Sequential()
  .add(new nn.LookupTable(vocab, embed))
  .add(new nn.SeqLSTM(embed, H))
  .add(new nn.SeqLSTM(H, H))
  .add(new nn.Sequencer(new nn.Linear(H, vocab)))
  .evaluate();

function argmax(v) {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

let run;
if (which === 'gen') {
  for (const m of model.modules) if (m instanceof nn.SeqLSTM) m.remember('both');
  run = async () => {
    model.forget();
    let token = 0;
    for (let t = 0; t < tokens; t++) {
      const x = tensor(Int32Array.of(token), { shape: [1, 1] });
      const out = tidy(() => model.forward(x));
      token = argmax(await out.data());
      out.dispose();
      x.dispose();
    }
  };
} else {
  const x = tensor(
    Int32Array.from({ length: seq * batch }, (_, i) => (i * 7919) % vocab),
    { shape: [seq, batch] },
  );
  run = async () => {
    const out = tidy(() => model.forward(x));
    await out.data();
    out.dispose();
  };
}
for (let i = 0; i < 3; i++) await run();
const c0 = process.cpuUsage();
const w0 = performance.now();
for (let i = 0; i < iters; i++) await run();
const c = process.cpuUsage(c0);
const per = which === 'gen' ? tokens * iters : iters;
const unit = which === 'gen' ? 'token' : 'batch of 1600 tokens';
console.log(
  `${which}: ${((c.user + c.system) / 1000 / per).toFixed(3)} ms CPU, ` +
    `${((performance.now() - w0) / per).toFixed(3)} ms wall per ${unit}; live CPU buffers ${memory().cpu?.liveBuffers}`,
);
