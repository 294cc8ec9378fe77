import { describe, expect, it, vi } from 'vitest';

describe('sharp is loaded on first use only', () => {
  it('importing prepareImage and the operators does not load sharp; preparing an image does', async () => {
    let loaded = 0;
    vi.doMock('sharp', async (importOriginal) => {
      loaded++;
      return importOriginal();
    });
    const { prepareImage } = await import('../../src/imaging/prepare.js');
    await import('../../src/operators/resize.js');
    await import('../../src/operators/detectFormat.js');
    await import('../../src/imaging/sniff.js');
    expect(loaded).toBe(0);

    const png = new Uint8Array(
      Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC',
        'base64',
      ),
    );
    const prepared = await prepareImage(png);
    expect(loaded).toBe(1);
    expect([...prepared.data.subarray(0, 3)]).toEqual([0, 0, 255]);
  });
});
