import { nn, noGrad, rand, tidy } from '@webrnn/rnn';

/** The sizes of the recurrent attention model (the Lua script's options). */
export interface AgentOptions {
  readonly canvas: number;
  readonly classes: number;
  readonly glimpseHiddenSize: number;
  readonly glimpsePatchSize: number;
  readonly glimpseScale: number;
  readonly glimpseDepth: number;
  readonly locatorHiddenSize: number;
  readonly imageHiddenSize: number;
  readonly hiddenSize: number;
  readonly rho: number;
  readonly fastLSTM: boolean;
  readonly unitPixels: number;
  readonly locatorStd: number;
  readonly stochastic: boolean;
  readonly uniform: number;
}

/**
 * Element-research's recurrent visual attention model (Mnih et al. 2014), as examples/recurrent-visual-attention.lua
 * builds it (transfer ReLU): a glimpse network reads a retina patch at a location, a simple RNN (or FastLSTM)
 * integrates the glimpses, a locator samples the next location (ReinforceNormal, trained by REINFORCE), and after
 * `rho` glimpses the last hidden state is classified. The agent's output is {log-probabilities, {log-probabilities,
 * baseline}} for ClassNLLCriterion and VRClassReward. Input: images [N, 1, canvas, canvas].
 */
export function buildAgent(o: AgentOptions): { agent: nn.Sequential; attention: nn.RecurrentAttention } {
  // glimpse network (rnn input layer)
  const locationSensor = new nn.Sequential()
    .add(new nn.SelectTable(1)) // Lua SelectTable(2): the location
    .add(new nn.Linear(2, o.locatorHiddenSize))
    .add(new nn.ReLU());
  const glimpseSensor = new nn.Sequential()
    .add(new nn.SpatialGlimpse(o.glimpsePatchSize, o.glimpseDepth, o.glimpseScale))
    .add(new nn.Reshape(o.glimpsePatchSize ** 2 * o.glimpseDepth)) // Lua Collapse(3); one channel
    .add(new nn.Linear(o.glimpsePatchSize ** 2 * o.glimpseDepth, o.glimpseHiddenSize))
    .add(new nn.ReLU());
  const glimpse = new nn.Sequential()
    .add(new nn.ConcatTable().add(locationSensor).add(glimpseSensor))
    .add(new nn.JoinTable(0, 1)) // Lua JoinTable(1, 1)
    .add(new nn.Linear(o.glimpseHiddenSize + o.locatorHiddenSize, o.imageHiddenSize))
    .add(new nn.ReLU())
    .add(new nn.Linear(o.imageHiddenSize, o.hiddenSize));
  // rnn recurrent layer
  const recurrent = o.fastLSTM
    ? new nn.FastLSTM(o.hiddenSize, o.hiddenSize)
    : new nn.Linear(o.hiddenSize, o.hiddenSize);
  // recurrent neural network
  const rnn = new nn.Recurrent(o.hiddenSize, glimpse, recurrent, new nn.ReLU(), 99999);
  // actions (locator)
  const locator = new nn.Sequential()
    .add(new nn.Linear(o.hiddenSize, 2))
    .add(new nn.HardTanh()) // bounds the mean between -1 and 1
    .add(new nn.ReinforceNormal(2 * o.locatorStd, o.stochastic)) // samples from a normal, learns by REINFORCE
    .add(new nn.HardTanh()) // bounds the sample between -1 and 1
    .add(new nn.MulConstant((o.unitPixels * 2) / o.canvas));
  const attention = new nn.RecurrentAttention(rnn, locator, o.rho, [o.hiddenSize]);
  // the model is a reinforcement learning agent
  const agent = new nn.Sequential()
    .add(attention)
    // classifier:
    .add(new nn.SelectTable(-1))
    .add(new nn.Linear(o.hiddenSize, o.classes))
    .add(new nn.LogSoftMax());
  // the baseline reward predictor: Lua's Constant(1, 1) -> Add(1), one learned number. Written before nn.Constant
  // existed: a zeroed column (which sends no gradient back) plus a learned scalar is the same up to that 1.
  const seq = new nn.Sequential()
    .add(new nn.Select(1, 0))
    .add(new nn.MulConstant(0))
    .add(new nn.Add(1, true));
  const concat = new nn.ConcatTable().add(new nn.Identity()).add(seq);
  const concat2 = new nn.ConcatTable().add(new nn.Identity()).add(concat);
  // output: {classpred, {classpred, basereward}}
  agent.add(concat2);
  if (o.uniform > 0) {
    // In a tidy scope: the random tensors drawn for the copies are freed.
    tidy(() =>
      noGrad(() => {
        for (const p of agent.parameters()[0])
          p.copy_(
            rand(p.shape, { dtype: p.dtype })
              .mul(2 * o.uniform)
              .add(-o.uniform),
          );
      }),
    );
  }
  return { agent, attention };
}
