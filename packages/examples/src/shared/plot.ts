import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';

/**
 * Line charts with Vega-Lite, rendered headless to SVG by Vega and rasterised to PNG by resvg with a bundled
 * DejaVu font, so that the pictures are the same on every machine.
 */
const require = createRequire(import.meta.url);
const FONT = path.join(
  path.dirname(require.resolve('dejavu-fonts-ttf/package.json')),
  'ttf',
  'DejaVuSans.ttf',
);

export interface Series {
  readonly name: string;
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<number>;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly logY?: boolean;
}

/** Write `<fileBase>.svg` and `<fileBase>.png`; returns both paths. */
export async function lineChart(chart: LineChart, fileBase: string): Promise<string[]> {
  const values = chart.series.flatMap((s) =>
    Array.from({ length: s.xs.length }, (_, i) => ({ series: s.name, x: s.xs[i]!, y: s.ys[i]! })),
  );
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 720,
    height: 300,
    background: 'white',
    config: { font: 'DejaVu Sans' },
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: chart.xLabel },
      y: {
        field: 'y',
        type: 'quantitative',
        title: chart.yLabel,
        scale: chart.logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: null },
    },
  } as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(path.dirname(fileBase), { recursive: true });
  writeFileSync(`${fileBase}.svg`, svg);
  const png = new Resvg(svg, {
    font: { fontFiles: [FONT], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
  }).render();
  writeFileSync(`${fileBase}.png`, png.asPng());
  return [`${fileBase}.svg`, `${fileBase}.png`];
}
