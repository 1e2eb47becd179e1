import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOutput, heldBack } from '../../../src/cli/output.js';

/** A real Writable that keeps what reaches it, standing in for a terminal or a pipe. */
function sink(isTTY = false) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  }) as unknown as NodeJS.WriteStream & { isTTY: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => chunks.join(''), chunks };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the output door', () => {
  const SECRET = 'hunter2-proxy-pass';

  it('masks a known secret, URL credentials, bearer values and hf_ tokens on both streams', async () => {
    const out = sink();
    const err = sink();
    const output = createOutput({ stdout: out.stream, stderr: err.stream, secrets: [SECRET] });
    output.stdout.write(`{"url":"http://bob:${SECRET}@proxy:3128/"}\n`);
    output.stderr.write(`Authorization: Bearer abc.def hf_abcdefghijklmnop https://cdn/x?X-Amz-Signature=deadbeef&a=1 https://u:other-pass@h/\n`);
    await output.drain();
    expect(out.text()).toBe('{"url":"http://bob:***@proxy:3128/"}\n');
    expect(err.text()).toBe('Authorization: Bearer *** hf_*** https://cdn/x?X-Amz-Signature=***&a=1 https://u:***@h/\n');
  });

  it('catches a secret split across two writes of one turn (line-buffered)', async () => {
    const out = sink();
    const output = createOutput({ stdout: out.stream, stderr: sink().stream, secrets: [SECRET] });
    output.stdout.write(`proxy password ${SECRET.slice(0, 7)}`);
    output.stdout.write(`${SECRET.slice(7)} in a message\n`);
    await output.drain();
    expect(out.text()).toBe('proxy password *** in a message\n');
  });

  it('catches a known secret split across writes of different turns: the possible beginning is held back', async () => {
    const out = sink();
    const output = createOutput({ stdout: out.stream, stderr: sink().stream, secrets: [SECRET] });
    output.stdout.write(`frame 1 ${SECRET.slice(0, 9)}`);
    await nextTurn();
    await nextTurn();
    // The partial line left, except the piece that could begin the secret.
    expect(out.text()).toBe('frame 1 ');
    output.stdout.write(`${SECRET.slice(9)} end`);
    await output.drain();
    expect(out.text()).toBe('frame 1 *** end');
    expect(out.text()).not.toContain(SECRET.slice(0, 9));
  });

  it('lets a partial line that cannot start a secret out at the end of the turn (prompts, TTY frames)', async () => {
    const out = sink(true);
    const output = createOutput({ stdout: out.stream, stderr: sink().stream, secrets: [SECRET] });
    output.stdout.write('Cache these models? [y/N] ');
    await nextTurn();
    await nextTurn();
    expect(out.text()).toBe('Cache these models? [y/N] ');
    expect(output.stdout.isTTY).toBe(true);
  });

  it('keeps terminal control sequences of progress bars (the stream view), masking only secrets', async () => {
    const err = sink(true);
    const output = createOutput({ stdout: sink().stream, stderr: err.stream, secrets: [SECRET] });
    const view = output.stderr.stream;
    expect(view.isTTY).toBe(true);
    let called = false;
    view.write(`\u001b[2K\u001b[1G[====    ] 50% ${SECRET}`, () => {
      called = true;
    });
    view.write('\n');
    await output.drain();
    expect(err.text()).toBe('\u001b[2K\u001b[1G[====    ] 50% ***\n');
    expect(called).toBe(true);
  });

  it('survives a renderer that hooks write on the view and on the real stream (as ora does), without looping', async () => {
    const err = sink(true);
    const output = createOutput({ stdout: sink().stream, stderr: err.stream, secrets: [SECRET] });
    const view = output.stderr.stream;
    const hookedCalls: string[] = [];
    // ora: hook the stream it draws on, then process.stderr itself (here: the real sink).
    for (const stream of [view, err.stream] as Array<{ write: (...args: unknown[]) => boolean }>) {
      const original = stream.write.bind(stream);
      stream.write = (chunk: unknown, ...rest: unknown[]) => {
        hookedCalls.push(String(chunk));
        return original(chunk, ...rest);
      };
    }
    view.write(`spinner frame ${SECRET}`);
    output.stderr.write(`a line of text ${SECRET}\n`);
    await output.drain();
    expect(err.text()).toBe('spinner frame ***a line of text ***\n');
    expect(hookedCalls.length).toBeGreaterThanOrEqual(2);
  });

  it('masks secrets added after creation (settings load later), and their JSON and URL spellings', async () => {
    const out = sink();
    const output = createOutput({ stdout: out.stream, stderr: sink().stream });
    const quoted = 'pa"ss\\word';
    output.addSecrets([quoted, 'abc', undefined]);
    output.stdout.write(`${JSON.stringify({ p: quoted })} ${encodeURIComponent(quoted)} abc\n`);
    await output.drain();
    // Too short a value (abc) is not a secret: it would mask ordinary text.
    expect(out.text()).toBe('{"p":"***"} *** abc\n');
  });
});

describe('heldBack', () => {
  it('is the longest end of the text that begins a secret', () => {
    expect(heldBack('xx hunt', ['hunter2'])).toBe(4);
    expect(heldBack('xx h', ['hunter2', 'zzzz'])).toBe(1);
    expect(heldBack('nothing', ['hunter2'])).toBe(0);
    // A whole secret is not held: it is masked.
    expect(heldBack('hunter2', ['hunter2'])).toBe(0);
  });
});
