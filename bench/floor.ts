import sharp from 'sharp';

/**
 * The physical limit of exact preparation: a bare sharp decode of the whole file to raw pixels with
 * the decoder settings exact mode uses (EXIF orientation applied, embedded ICC profile ignored), no
 * header read, no colourspace step, no resize. Exact mode must decode every pixel of the original
 * (the bilinear stretch reads them all), so it cannot beat this.
 */
export async function floorDecode(data: Uint8Array): Promise<number> {
  const { info } = await sharp(data, { autoOrient: true, ignoreIcc: true, pages: 1, page: 0 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return info.width * info.height;
}
