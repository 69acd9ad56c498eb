import path from 'node:path';
import { lineChart, smoothed } from '../shared/plot.js';

/** The training loss per iteration (NLL per word, or NCE's loss), with its moving average. */
export async function plotLoss(out: string, losses: readonly number[], nce: boolean): Promise<string[]> {
  if (losses.length === 0) return [];
  return lineChart(
    {
      title: `recurrent-language-model: training ${nce ? 'NCE loss' : 'NLL'} per word`,
      xLabel: 'iteration',
      yLabel: nce ? 'NCE loss per step' : 'loss (nats per word)',
      xFromZero: true,
      series: smoothed('training', [...losses]),
    },
    path.join(out, 'loss'),
  );
}

/** Perplexity per epoch: validation (and training, without NCE) against the unigram baseline. */
export async function plotEpochs(
  out: string,
  epochs: readonly { epoch: number; trainLoss: number; validPerplexity: number }[],
  baseline: number,
  nce: boolean,
): Promise<string[]> {
  const xs = epochs.map((e) => e.epoch);
  return lineChart(
    {
      title: 'recurrent-language-model: perplexity per epoch',
      xLabel: 'epoch',
      yLabel: 'perplexity',
      logY: true,
      series: [
        ...(nce ? [] : [{ name: 'training', xs, ys: epochs.map((e) => Math.exp(e.trainLoss)) }]),
        { name: 'validation', xs, ys: epochs.map((e) => e.validPerplexity) },
        {
          name: 'unigram baseline (validation)',
          xs: [xs[0]!, xs.at(-1)!],
          ys: [baseline, baseline],
          dashed: true,
        },
      ],
    },
    path.join(out, 'perplexity'),
  );
}
