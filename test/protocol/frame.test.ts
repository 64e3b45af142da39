import { describe, expect, it } from 'vitest';
import { BoundedCapture } from '../../protocol/bounded-capture.ts';
import { CommandLineError, splitCommandLine } from '../../protocol/command-line.ts';
import { TesteeError } from '../../protocol/errors.ts';
import { encodeFrame, FrameDecoder, FrameError } from '../../protocol/frame.ts';
import { decodeMessage, encodeMessage } from '../../protocol/messages.ts';

describe('frames', () => {
  it('prefixes the payload with its little-endian length', () => {
    const frame = encodeFrame(Uint8Array.from([7, 8, 9]));
    expect([...frame]).toEqual([3, 0, 0, 0, 7, 8, 9]);
  });

  it('cuts a stream into frames whatever the chunking, one byte at a time included', () => {
    const payloads = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 0xab), Buffer.from('last')];
    const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
    for (const chunkSize of [1, 3, 4, 5, 4096, stream.length]) {
      const decoder = new FrameDecoder();
      const received: Buffer[] = [];
      for (let at = 0; at < stream.length; at += chunkSize) received.push(...decoder.push(stream.subarray(at, at + chunkSize)));
      expect(received.map((p) => p.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
      expect(decoder.partial()).toBeUndefined();
    }
  });

  it('says how much of a frame arrived when it is cut short', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(encodeFrame(Buffer.alloc(400)).subarray(0, 16))).toEqual([]);
    expect(decoder.partial()).toBe('12 of 400 payload bytes of a frame');
    decoder.reset();
    decoder.push(Uint8Array.from([1, 0]));
    expect(decoder.partial()).toBe('2 of the 4 bytes of a length prefix');
  });

  it('rejects a length above maxFrameBytes before buffering it, and names a stray print', () => {
    const decoder = new FrameDecoder(1024);
    expect(() => decoder.push(encodeFrame(Buffer.alloc(1025), 4096))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(Buffer.from('hello from print\n'))).toThrow(/at most 1073741824 bytes.*got 1819043176.*ASCII "hell".*stderr/);
  });

  it('refuses to encode a payload above the limit', () => {
    expect(() => encodeFrame(Buffer.alloc(10), 9)).toThrow(/at most 9 bytes, got 10/);
  });
});

describe('messages', () => {
  it('round-trips metadata strings and float32/float64 tensors through safetensors', () => {
    const message = {
      metadata: { protocol: '1', id: '5', kind: 'run', family: 'linear-recurrence', options: '{"reverse":true}' },
      tensors: {
        a: { data: Float32Array.from([0.5, -1.25, 3]), shape: [1, 1, 3] },
        h0: { data: Float64Array.from([Math.PI]), shape: [1, 1] },
        empty: { data: new Float32Array(0), shape: [2, 3, 0] },
      },
    };
    const decoded = decodeMessage(encodeMessage(message), 'test');
    expect(decoded.metadata).toEqual(message.metadata);
    expect(decoded.tensors.a.data).toBeInstanceOf(Float32Array);
    expect([...decoded.tensors.a.data]).toEqual([0.5, -1.25, 3]);
    expect(decoded.tensors.h0.data).toBeInstanceOf(Float64Array);
    expect(decoded.tensors.h0.data[0]).toBe(Math.PI);
    expect(decoded.tensors.empty.shape).toEqual([2, 3, 0]);
  });

  it('reports a payload that is not safetensors as a protocol error', () => {
    let caught: unknown;
    try {
      decodeMessage(Buffer.from('not safetensors at all'), 'answer');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TesteeError);
    expect((caught as TesteeError).kind).toBe('protocol');
    expect((caught as TesteeError).message).toMatch(/^answer: expected a safetensors payload/);
  });
});

describe('command lines', () => {
  it('splits words like a shell, without running one', () => {
    expect(splitCommandLine('python3 my_kernel.py')).toEqual(['python3', 'my_kernel.py']);
    expect(splitCommandLine(`  python3  'my kernel.py' --name "a \\"b\\" c" x\\ y $HOME ''`)).toEqual([
      'python3',
      'my kernel.py',
      '--name',
      'a "b" c',
      'x y',
      '$HOME',
      '',
    ]);
    expect(splitCommandLine(`sh -c 'echo "$X" | cat'`)).toEqual(['sh', '-c', 'echo "$X" | cat']);
  });

  it('names what is wrong with a command line it cannot split', () => {
    expect(() => splitCommandLine(`python3 'unclosed`)).toThrow(CommandLineError);
    expect(() => splitCommandLine(`python3 "unclosed`)).toThrow(/closing "/);
    expect(() => splitCommandLine('python3 \\')).toThrow(/trailing backslash/);
    expect(() => splitCommandLine('   ')).toThrow(/expected a program to run/);
  });
});

describe('bounded stderr capture', () => {
  it('keeps the first and last halves and counts what it dropped', () => {
    const capture = new BoundedCapture(20);
    capture.append(Buffer.from('0123456789'));
    capture.append(Buffer.from('abcdefghij'.repeat(3)));
    capture.append(Buffer.from('XYZ'));
    expect(capture.totalBytes).toBe(43);
    expect(capture.text()).toBe('0123456789\n[… 23 bytes of stderr not kept (limit 20 bytes) …]\ndefghijXYZ');
    expect(capture.lastText(4)).toBe('…jXYZ');
  });

  it('keeps everything under the limit verbatim', () => {
    const capture = new BoundedCapture(100);
    capture.append(Buffer.from('line 1\n'));
    capture.append(Buffer.from('line 2\n'));
    expect(capture.text()).toBe('line 1\nline 2\n');
  });
});
