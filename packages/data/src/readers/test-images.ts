import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** Test helper: writes an image of `w×h` with a colour gradient (deterministic from `seed`). */
export async function writeImage(
  file: string,
  w: number,
  h: number,
  seed: number,
  format: 'jpeg' | 'png' | 'webp' = 'jpeg',
): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      px[o] = (x * 255) / w;
      px[o + 1] = (y * 255) / h;
      px[o + 2] = (seed * 37) % 256;
    }
  }
  let img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  img = format === 'jpeg' ? img.jpeg({ quality: 90 }) : format === 'png' ? img.png() : img.webp();
  writeFileSync(file, await img.toBuffer());
}

/** Test helper: an ImageFolder with `perClass` mixed-size JPEG/PNG images in each of `classes`. */
export async function makeImageFolder(root: string, classes: string[], perClass: number): Promise<string[]> {
  const files: string[] = [];
  for (const [ci, c] of classes.entries()) {
    mkdirSync(join(root, c), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const png = i % 2 === 1;
      const f = join(root, c, `img${i}.${png ? 'png' : 'jpg'}`);
      await writeImage(f, 20 + 7 * i + ci, 16 + 5 * i, ci * 10 + i, png ? 'png' : 'jpeg');
      files.push(f);
    }
  }
  return files;
}
