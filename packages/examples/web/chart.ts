/** A line chart on a canvas: no dependency, redrawn whole each time (a few hundred points). */
export interface Series {
  readonly name: string;
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly color: string;
  readonly dashed?: boolean;
}

export function drawChart(canvas: HTMLCanvasElement, series: readonly Series[], logY = false): void {
  const g = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  const pad = { left: 64, right: 12, top: 10, bottom: 24 };
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, h);
  const ty = (y: number) => (logY ? Math.log10(Math.max(y, 1e-12)) : y);
  const points = series.flatMap((s) => s.xs.map((x, i) => [x, ty(s.ys[i]!)] as const));
  const finite = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length === 0) return;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of finite)
    [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const px = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (w - pad.left - pad.right);
  const py = (y: number) => h - pad.bottom - ((y - y0) / (y1 - y0)) * (h - pad.top - pad.bottom);
  // Axes and their ranges.
  g.strokeStyle = '#999';
  g.lineWidth = 1;
  g.setLineDash([]);
  g.strokeRect(pad.left, pad.top, w - pad.left - pad.right, h - pad.top - pad.bottom);
  g.fillStyle = '#444';
  g.font = '12px "DejaVu Sans", sans-serif';
  const label = (y: number) => (logY ? (10 ** y).toExponential(1) : y.toFixed(2));
  g.fillText(label(y1), 4, pad.top + 10);
  g.fillText(label(y0), 4, h - pad.bottom);
  g.fillText(String(Math.round(x0)), pad.left, h - 6);
  g.fillText(String(Math.round(x1)), w - pad.right - 40, h - 6);
  // The series, then their legend.
  series.forEach((s, k) => {
    g.strokeStyle = s.color;
    g.lineWidth = 1.6;
    g.setLineDash(s.dashed ? [5, 4] : []);
    g.beginPath();
    s.xs.forEach((x, i) => {
      const y = ty(s.ys[i]!);
      if (!Number.isFinite(y)) return;
      if (i === 0) g.moveTo(px(x), py(y));
      else g.lineTo(px(x), py(y));
    });
    g.stroke();
    g.fillStyle = s.color;
    g.fillText(s.name, w - pad.right - 150, pad.top + 14 + 14 * k);
  });
}
