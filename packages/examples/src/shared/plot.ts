import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';

/**
 * Line charts: a Vega-Lite spec, rendered to SVG by Vega's headless view (no canvas needed), then rasterised to
 * PNG by resvg with the DejaVu Sans font shipped in the `dejavu-fonts-ttf` package and system fonts off, so the
 * PNG is the same on every machine, fonts installed or not.
 */
const require = createRequire(import.meta.url);
const fontDir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FAMILY = 'DejaVu Sans';
// Regular for labels, bold for titles (without it resvg would have no bold face to use).
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => path.join(fontDir, f));

/** Colours for the series in order (Vega's "tableau10" with a neutral grey first for the ground truth). */
const PALETTE = ['#4c4c4c', '#e45756', '#4c78a8', '#f58518', '#54a24b', '#b279a2'];

export interface Series {
  readonly name: string;
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<number>;
  /** Draw dashed (e.g. the part of the truth that was given to the model). */
  readonly dashed?: boolean;
  /** Draw thinner and translucent (e.g. a raw, noisy loss under its moving average). */
  readonly faint?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** A logarithmic y axis, for loss curves. */
  readonly logY?: boolean;
  /** Start the x axis at 0 (iterations) rather than at the first x (a stretch of a sequence). */
  readonly xFromZero?: boolean;
  readonly width?: number;
  readonly height?: number;
  /** Where the legend sits inside the plot (default top right; bottom right for curves that climb). */
  readonly legend?: 'top-right' | 'bottom-right';
}

/** Write `<fileBase>.svg` and `<fileBase>.png`; returns both paths. */
export async function lineChart(chart: LineChart, fileBase: string): Promise<string[]> {
  const svg = await toSvg(chart);
  mkdirSync(path.dirname(fileBase), { recursive: true });
  writeFileSync(`${fileBase}.svg`, svg);
  writeFileSync(`${fileBase}.png`, svgToPng(svg));
  return [`${fileBase}.svg`, `${fileBase}.png`];
}

/** The chart as an SVG document. */
export async function toSvg(chart: LineChart): Promise<string> {
  const names = chart.series.map((s) => s.name);
  // Each point carries its series' style; `scale: null` below uses these values as they are.
  const values = chart.series.flatMap((s) =>
    Array.from({ length: s.xs.length }, (_, i) => ({
      series: s.name,
      x: s.xs[i]!,
      y: s.ys[i]!,
      dash: s.dashed ? [5, 3] : [1, 0],
      width: s.faint ? 1 : 1.8,
      opacity: s.faint ? 0.35 : 1,
    })),
  );
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: chart.width ?? 720,
    height: chart.height ?? 300,
    background: 'white',
    config: { font: FONT_FAMILY, legend: { orient: chart.legend ?? 'top-right', labelLimit: 300 } },
    data: { values },
    mark: { type: 'line', clip: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: chart.xLabel,
        scale: chart.xFromZero ? {} : { zero: false, nice: false },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: chart.yLabel,
        scale: chart.logY ? { type: 'log' } : { zero: false },
        // On a log axis, one labelled tick per power of ten: 1, 0.1, 0.01, 0.001, 1e-4, ...
        axis: chart.logY
          ? {
              values: decades(values.map((v) => v.y)),
              labelExpr: "datum.value >= 0.001 ? format(datum.value, '~g') : format(datum.value, '.0e')",
            }
          : {},
      },
      // Series order (and so colour and legend order) is the order given, not alphabetical.
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: names, range: names.map((_, i) => PALETTE[i % PALETTE.length]!) },
      },
      strokeDash: { field: 'dash', type: 'nominal', scale: null },
      strokeWidth: { field: 'width', type: 'quantitative', scale: null },
      opacity: { field: 'opacity', type: 'quantitative', scale: null },
    },
  } as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG at twice its size with the bundled font only. */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
  });
  return resvg.render().asPng();
}

/**
 * A noisy training curve as two series: the raw values (faint) and their trailing moving average over about 1/30
 * of the run (5 to 50 points), for `lineChart`. `xs` defaults to 1, 2, ...
 */
export function smoothed(name: string, ys: readonly number[], xs?: readonly number[]): Series[] {
  const at = xs ?? ys.map((_, i) => i + 1);
  const window = Math.min(50, Math.max(5, Math.round(ys.length / 30)));
  return [
    { name, xs: [...at], ys: [...ys], faint: true },
    { name: `${name}, moving average (${window})`, xs: [...at], ys: movingAverage(ys, window) },
  ];
}

/** Trailing moving average over `window` points: the trend of a noisy loss curve. */
export function movingAverage(ys: readonly number[], window: number): number[] {
  let sum = 0;
  return ys.map((y, i) => {
    sum += y - (i >= window ? ys[i - window]! : 0);
    return sum / Math.min(i + 1, window);
  });
}

/** The powers of ten that span the positive values. */
function decades(ys: readonly number[]): number[] {
  const pos = ys.filter((y) => y > 0 && Number.isFinite(y));
  if (pos.length === 0) return [1];
  // A loop, not Math.min(...pos): spreading a long run's losses (100 000 of them) overflows the call stack.
  const lo = Math.floor(Math.log10(pos.reduce((a, b) => Math.min(a, b))));
  const hi = Math.ceil(Math.log10(pos.reduce((a, b) => Math.max(a, b))));
  return Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
}

/** The training-loss chart of every program: the series over iterations on a log scale, in `<out>/loss.{svg,png}`. */
export function lossChart(title: string, series: Series[], out: string): Promise<string[]> {
  return lineChart(
    { title, xLabel: 'iteration', yLabel: 'loss', logY: true, xFromZero: true, series },
    path.join(out, 'loss'),
  );
}
