// The control client's framing reader: messages cut at each form feed, a UTF-8 character split
// between chunks kept whole, and a message over the cap refused before it is kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ControlMessageSplitter, ControlMessageTooLargeError } from '../../src/control/message-splitter.ts';

describe('ControlMessageSplitter', () => {
  test('cuts at every \\f, across chunks, and skips empty messages', () => {
    const splitter = new ControlMessageSplitter(1024);
    assert.deepEqual(splitter.push(Buffer.from('{"a":1}\f{"b"')), ['{"a":1}']);
    assert.deepEqual(splitter.push(Buffer.from(':2}\f\f{"c":3}\f')), ['{"b":2}', '{"c":3}']);
    assert.deepEqual(splitter.push(Buffer.from('')), []);
  });

  test('a character split between two chunks arrives whole', () => {
    const text = '{"text":"é😀"}';
    const bytes = Buffer.from(`${text}\f`);
    for (let cut = 1; cut < bytes.length - 1; cut++) {
      const splitter = new ControlMessageSplitter(1024);
      const messages = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
      assert.deepEqual(messages, [text], `cut at byte ${cut}`);
    }
  });

  test('an unfinished message over the cap throws at once, before the rest comes', () => {
    const splitter = new ControlMessageSplitter(16);
    assert.deepEqual(splitter.push(Buffer.from('{"x":"0123456')), []);
    assert.throws(() => splitter.push(Buffer.from('789abcdef')), ControlMessageTooLargeError);
    const exact = new ControlMessageSplitter(4);
    assert.deepEqual(exact.push(Buffer.from('abcd\f')), ['abcd'], 'a message of exactly the cap is taken');
  });
});
