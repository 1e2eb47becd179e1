import { describe, expect, it } from 'vitest';
import { redact, registerSecret, stripControlChars } from '../../../src/util/redact.js';

describe('redact', () => {
  it.each([
    ['\u001b[2J\u001b[31mred', '\uFFFD[2J\uFFFD[31mred'],
    ['bell\u0007 cr\r back\b del\u007f', 'bell\uFFFD cr\uFFFD back\uFFFD del\uFFFD'],
    ['C1 CSI \u009b31m', 'C1 CSI \uFFFD31m'],
    ['title \u001b]0;pwned\u0007', 'title \uFFFD]0;pwned\uFFFD'],
    ['two\nlines\tand a tab', 'two\nlines\tand a tab'],
    ['ünïcode 文件 ok', 'ünïcode 文件 ok'],
  ])('neutralizes terminal control characters in %j, keeping newlines and tabs', (input, expected) => {
    expect(stripControlChars(input)).toBe(expected);
    expect(redact(input)).toBe(expected);
  });

  it('masks registered secrets, hf_ tokens and bearer values, and the result stays valid JSON text', () => {
    registerSecret('sekret-value-123');
    const line = redact(JSON.stringify({ message: 'sekret-value-123 hf_abcdefghijkl Bearer xyz \u009b' }));
    expect(JSON.parse(line)).toEqual({ message: '*** hf_*** Bearer *** \uFFFD' });
  });

  it.each([
    ['AWS', 'https://s3.example/b?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123&X-Amz-Date=1', 'https://s3.example/b?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Date=1'],
    ['Azure SAS (GitHub release assets)', 'https://objects.example/x.bin?sp=r&sv=2020&sig=AZURESIG%2B1&se=2026', 'https://objects.example/x.bin?sp=r&sv=2020&sig=***&se=2026'],
    ['Google Cloud Storage', 'https://storage.example/o?X-Goog-Credential=svc%40p&X-Goog-Signature=deadbeef', 'https://storage.example/o?X-Goog-Credential=***&X-Goog-Signature=***'],
    ['a token in the query', 'https://cdn.example/f?jwt=eyJhbGc.e30.sig&token=t0k', 'https://cdn.example/f?jwt=***&token=***'],
  ])('masks the signature of a signed URL: %s', (_what, input, expected) => {
    expect(redact(`failed: ${input} (403)`)).toBe(`failed: ${expected} (403)`);
  });
});
