import { type Activity, expectTable } from '../module/activity.js';
import { floatTensor } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  add,
  affine,
  arange,
  cast,
  cat,
  clamp,
  contiguous,
  expand,
  fmtShape,
  gather,
  mean,
  mul,
  narrow,
  reshape,
  zeros,
} from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * dpnn's nn.SpatialGlimpse, the retina of the recurrent visual attention model. Input {image [N, C, H, W],
 * location [N, 2]} (or one example [C, H, W] with [2]); a location is (y, x) of the glimpse's centre, from (-1, -1)
 * at the top left to (1, 1) at the bottom right. The output [N, depth * C, height, width] stacks `depth` patches
 * around the location, each `scale` times the size of the one before, zero-padded where they leave the image and
 * average-pooled down to height x width (patch-major: channel c of patch d is output channel d * C + c).
 * As dpnn, the crop offset is floor(clamp((loc + 1) / 2 * (padded - patch), 0, padded - patch)); the image gets a
 * gradient, the location none (zeros). Only scale 2 is supported with depth > 1: dpnn uses average pooling there
 * and nnx's bilinear SpatialReSampling for other scales, which is not implemented.
 */
export class SpatialGlimpse extends Module {
  readonly height: number;
  readonly width: number;

  constructor(
    size: number | readonly [number, number],
    readonly depth = 3,
    readonly scale = 2,
  ) {
    super();
    const where = 'nn.SpatialGlimpse';
    [this.height, this.width] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
    for (const [name, v] of [
      ['height', this.height],
      ['width', this.width],
      ['depth', depth],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new WebrnnError(where, `${name} must be a positive integer, got ${v}`);
    }
    if (depth > 1 && scale !== 2) {
      throw new WebrnnError(
        where,
        `scale ${scale} is not supported: only scale 2 (average pooling, as dpnn) is; dpnn uses nnx's ` +
          'SpatialReSampling for other scales',
      );
    }
  }

  override updateOutput(input: Activity): Activity {
    const t = expectTable('input', input);
    if (t.length < 2)
      throw new WebrnnError('input', `expected a table {image, location}, got ${t.length} entries`);
    let img = floatTensor(t[0]!, 'input[0]');
    let loc = floatTensor(t[1]!, 'input[1]');
    const single = img.rank === 3;
    if (single) {
      img = reshape(img, [1, ...img.shape]);
      loc = reshape(loc, [1, ...loc.shape]);
    }
    const [n, c, h, w] = img.shape as [number, number, number, number];
    if (img.rank !== 4 || loc.rank !== 2 || loc.shape[0] !== n || loc.shape[1] !== 2) {
      throw new WebrnnError(
        'input',
        `expected {image [N, C, H, W], location [N, 2]} or {[C, H, W], [2]}, got {${fmtShape((t[0] as Tensor).shape)}, ${fmtShape((t[1] as Tensor).shape)}}`,
      );
    }
    if (loc.dtype !== img.dtype) loc = cast(loc, img.dtype);
    const patches: Tensor[] = [];
    let gh = this.height;
    let gw = this.width;
    for (let d = 0; d < this.depth; d++) {
      if (d > 0) {
        gh *= this.scale;
        gw *= this.scale;
      }
      const crop = this.crop(img, loc, gh, gw, [n, c, h, w]);
      if (d === 0) patches.push(crop);
      else {
        const k = gh / this.height;
        const blocks = reshape(crop, [n, c, this.height, k, this.width, gw / this.width]);
        patches.push(mean(blocks, [3, 5]));
      }
    }
    const out = cat(patches, 1);
    return single ? reshape(out, out.shape.slice(1)) : out;
  }

  /** The gh x gw patch of the zero-padded image at each example's location: [N, C, gh, gw]. */
  private crop(img: Tensor, loc: Tensor, gh: number, gw: number, [n, c, h, w]: number[]): Tensor {
    const padH = Math.floor((gh - 1) / 2);
    const padW = Math.floor((gw - 1) / 2);
    const hp = h! + 2 * padH;
    const wp = w! + 2 * padW;
    const maxY = hp - gh;
    const maxX = wp - gw;
    if (maxY < 0 || maxX < 0) {
      throw new WebrnnError(
        'input[0]',
        `the image ${h}x${w} is too small for a ${gh}x${gw} patch (padded to ${hp}x${wp})`,
      );
    }
    const opts = { dtype: img.dtype, device: img.device };
    let padded = img;
    if (padH > 0) {
      const z = zeros([n!, c!, padH, w!], opts);
      padded = cat([z, padded, z], 2);
    }
    if (padW > 0) {
      const z = zeros([n!, c!, hp, padW], opts);
      padded = cat([z, padded, z], 3);
    }
    // Offsets from the locations, on the device; casting to int32 truncates (floor: they are >= 0).
    const offset = (col: number, max: number) =>
      reshape(cast(clamp(affine(narrow(loc, 1, col, 1), max / 2, max / 2), 0, max), 'int32'), [n!, 1, 1]);
    const iy = reshape(arange(gh, undefined, 1, { dtype: 'int32', device: img.device }), [1, gh, 1]);
    const ix = reshape(arange(gw, undefined, 1, { dtype: 'int32', device: img.device }), [1, 1, gw]);
    const rows = mul(add(offset(0, maxY), iy), wp);
    const flatIndex = reshape(add(rows, add(offset(1, maxX), ix)), [n!, 1, gh * gw]);
    const index = contiguous(expand(flatIndex, [n!, c!, gh * gw]));
    const picked = gather(reshape(padded, [n!, c!, hp * wp]), 2, index);
    return reshape(picked, [n!, c!, gh, gw]);
  }

  override describe(): string {
    return `${this.typeName}(${this.height}x${this.width}, depth ${this.depth}, scale ${this.scale})`;
  }
}
