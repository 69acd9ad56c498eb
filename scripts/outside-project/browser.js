// A page's script, bundled by scripts/outside-project.sh with esbuild for the browser from the installed packages:
// it must bundle with no plugin, stub or warning, and without Dawn's `webgpu` package (installed here too).
import { initWebGPU, io, nn, tensor } from '@webrnn/rnn';

const net = new nn.Sequential().add(new nn.Linear(2, 3)).add(new nn.Tanh());
const gpu = await initWebGPU();
console.log(net.forward(tensor([[1, 2]])), await io.moduleToBlob(net), gpu?.adapter);
