import { type DeviceName, type Tensor, defaultGenerator, tensor } from '@webrnn/rnn';

/**
 * The recurrent-visual-attention example's data set, made here instead of downloading MNIST: the ten digits of a
 * 5x7 bitmap font, each scaled up `scale` times (nearest neighbour) and translated to a random place in a larger
 * square canvas (as dp's TranslatedMnist puts MNIST digits in a 60x60 canvas), so that where to look matters.
 * Ink is 1, background 0.
 */
export const FONT: readonly (readonly string[])[] = [
  ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
  ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
];
export const FONT_WIDTH = 5;
export const FONT_HEIGHT = 7;

export interface DigitImages {
  /** [N, 1, canvas, canvas] float32. */
  readonly images: Tensor;
  /** The digit of each image, 0..classes-1. */
  readonly labels: number[];
  /** Where each digit's top left corner is (row, column). */
  readonly offsets: [number, number][];
}

const randint = (n: number) => Math.floor(defaultGenerator.next() * n);

/** The pixels of `n` random digits (of the first `classes`) at random places, row-major [n][canvas * canvas]. */
export function drawDigits(
  n: number,
  s: { canvas: number; scale: number; classes: number },
): { pixels: Float32Array; labels: number[]; offsets: [number, number][] } {
  const [h, w] = [FONT_HEIGHT * s.scale, FONT_WIDTH * s.scale];
  if (h > s.canvas || w > s.canvas) {
    throw new Error(
      `a digit scaled ${s.scale} times (${w}x${h}) does not fit in a ${s.canvas}x${s.canvas} canvas`,
    );
  }
  const size = s.canvas * s.canvas;
  const pixels = new Float32Array(n * size);
  const labels: number[] = [];
  const offsets: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const label = randint(s.classes);
    const [top, left] = [randint(s.canvas - h + 1), randint(s.canvas - w + 1)];
    labels.push(label);
    offsets.push([top, left]);
    const glyph = FONT[label]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (glyph[Math.floor(y / s.scale)]![Math.floor(x / s.scale)] === '1') {
          pixels[i * size + (top + y) * s.canvas + left + x] = 1;
        }
      }
    }
  }
  return { pixels, labels, offsets };
}

export function digitImages(
  n: number,
  s: { canvas: number; scale: number; classes: number },
  device: DeviceName,
): DigitImages {
  const { pixels, labels, offsets } = drawDigits(n, s);
  return { images: tensor(pixels, { shape: [n, 1, s.canvas, s.canvas], device }), labels, offsets };
}
