import { toCHeader } from './c-header';

describe('toCHeader', () => {
  it('renders an aligned byte array and its length that parse back to the bytes', () => {
    const bytes = Uint8Array.from({ length: 29 }, (_, i) => (i * 37) & 0xff);
    const h = toCHeader(bytes, 'model_data');
    expect(h).toContain('#ifndef MODEL_DATA_H_');
    expect(h).toContain('alignas(16) const unsigned char model_data[] = {');
    expect(h).toContain('const unsigned int model_data_len = 29;');
    const values = [...h.matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1], 16));
    expect(values).toEqual(Array.from(bytes));
  });
  it('rejects names that are not C identifiers', () => {
    expect(() => toCHeader(new Uint8Array(1), '1model')).toThrow(/C identifier/);
  });
});
