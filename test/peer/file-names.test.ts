import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  fileNamesTried,
  MAX_DOUBLED_STEP,
  MAX_STORED_NAME_BYTES,
  numberedName,
  publishWithoutOverwrite,
  safeFileName,
} from '../../src/peer/file-names.ts';

const DIR = path.join(os.tmpdir(), 'downloads');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/** What every result of safeFileName must be, whatever the peer offered. */
function assertSafe(result: string, offered: string): void {
  const context = `safeFileName(${JSON.stringify(offered.length > 80 ? `${offered.slice(0, 80)}…` : offered)}) = ${JSON.stringify(result)}`;
  assert.equal(typeof result, 'string', context);
  assert.ok(result.length > 0, `${context}: empty`);
  assert.ok(!result.includes('/') && !result.includes('\\'), `${context}: contains a separator`);
  assert.ok(result !== '.' && result !== '..', `${context}: is a dot segment`);
  assert.ok(!CONTROL.test(result), `${context}: contains a control character`);
  assert.ok(Buffer.byteLength(result, 'utf8') <= MAX_STORED_NAME_BYTES, `${context}: longer than ${MAX_STORED_NAME_BYTES} bytes`);
  assert.equal(Buffer.from(result, 'utf8').toString('utf8'), result, `${context}: not well-formed UTF-16 (split surrogate)`);
  assert.ok(!WINDOWS_RESERVED.test(result), `${context}: a reserved device name`);
  const joined = path.join(DIR, result);
  assert.equal(path.dirname(joined), DIR, `${context}: escapes the directory`);
  assert.equal(path.basename(joined), result, `${context}: not one path segment`);
}

describe('safeFileName', { timeout: 30_000 }, () => {
  const cases: Array<[offered: string, expected: string | undefined]> = [
    ['../../x', 'x'],
    ['/etc/passwd', 'passwd'],
    ['a\\b', 'b'],
    ['..\\..\\windows\\system32\\evil.dll', 'evil.dll'],
    ['dir/', 'dir'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['nul', '_nul'],
    ['LPT1', '_LPT1'],
    ['com1.tar.gz', '_com1.tar.gz'],
    ['report.pdf', 'report.pdf'],
    ['résumé.pdf', 'résumé.pdf'],
    ['日本語のファイル.txt', '日本語のファイル.txt'],
    ['😀 party.png', '😀 party.png'],
    ['.bashrc', '.bashrc'],
    ['a\u0000b.txt', 'ab.txt'],
    ['\u001b[31mred\u001b[0m.txt', '[31mred[0m.txt'],
    ['bell\u0007\u009b.txt', 'bell.txt'],
    ['line\nbreak\r.txt', 'linebreak.txt'],
    ['what?.txt', 'what_.txt'],
    ['  spaced  ', 'spaced'],
    ['trailing dots...', 'trailing dots'],
    // Only the fallback matters for these; its exact spelling is not part of the contract.
    ['..', undefined],
    ['.', undefined],
    ['', undefined],
    ['/', undefined],
    ['../..', undefined],
    ['...', undefined],
    ['\u0000', undefined],
    ['\u001b', undefined],
    ['   ', undefined],
  ];

  for (const [offered, expected] of cases) {
    test(`${JSON.stringify(offered)} → ${expected === undefined ? 'a fallback name' : JSON.stringify(expected)}`, () => {
      const result = safeFileName(offered);
      assertSafe(result, offered);
      if (expected !== undefined) assert.equal(result, expected);
    });
  }

  test('a 10,000-character name is cut to 255 UTF-8 bytes and keeps its extension', () => {
    for (const unit of ['a', 'é', '日', '😀']) {
      const offered = `${unit.repeat(10_000)}.pdf`;
      const result = safeFileName(offered);
      assertSafe(result, offered);
      assert.ok(result.endsWith('.pdf'), `${unit}: extension lost`);
      assert.ok(result.startsWith(unit.repeat(10)), `${unit}: stem lost`);
      assert.ok(Buffer.byteLength(result) > MAX_STORED_NAME_BYTES - 4, `${unit}: cut more than needed (${Buffer.byteLength(result)} bytes)`);
    }
  });

  test('a reserved device name cut to the byte budget still fits once "_" is put before it', () => {
    // "con." and a long multi-byte extension: the stem is cut to exactly 255 bytes before the "_".
    for (const unit of ['é', '日', '😀']) {
      const offered = `con.a${unit.repeat(300)}`;
      const result = safeFileName(offered);
      assertSafe(result, offered);
      assert.ok(result.startsWith('_con.a'), JSON.stringify(result.slice(0, 20)));
    }
    fc.assert(
      fc.property(fc.constantFrom('con', 'PRN', 'aux', 'nul', 'com1', 'lpt9'), fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', '.', ' '), minLength: 100, maxLength: 300 }), (device, tail) => {
        const offered = `${device}.${tail}`;
        assertSafe(safeFileName(offered), offered);
      }),
      { numRuns: 300 },
    );
  });

  test('a name of exactly 255 bytes is kept as is', () => {
    const offered = `${'n'.repeat(MAX_STORED_NAME_BYTES - 4)}.txt`;
    assert.equal(safeFileName(offered), offered);
  });

  test('arbitrary strings always give one safe segment (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (offered) => assertSafe(safeFileName(offered), offered)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('.', '/', '\\', ' ', '\u0000', '\u001b', 'a', 'é', 'con', ':', '?'), maxLength: 60 }), (offered) =>
        assertSafe(safeFileName(offered), offered),
      ),
      { numRuns: 300 },
    );
  });

  const longExtensionCases = [
    ['..' + 'a'.repeat(300), 'truncation leaves "."'],
    ['...' + 'a'.repeat(300), 'truncation leaves ".."'],
  ] as const;
  for (const [offered, what] of longExtensionCases) {
    test(
      `a long name whose "extension" is over 32 bytes stays safe (${what})`,
      () => assertSafe(safeFileName(offered), offered),
    );
  }

  test(
    'a truncated name does not end in a space or a dot',
    () => {
      for (const offered of ['x .' + 'a'.repeat(300), 'x..' + 'a'.repeat(300)]) {
        const result = safeFileName(offered);
        assert.doesNotMatch(result, /[. ]$/, JSON.stringify(result));
      }
    },
  );

  test(
    'long names built from dots, separators and spaces always give one safe segment (property)',
    () => {
      fc.assert(
        fc.property(
          fc.string({ unit: fc.constantFrom('.', '/', ' ', 'a'), maxLength: 20 }),
          fc.integer({ min: 240, max: 400 }),
          (prefix, length) => {
            const offered = prefix + 'a'.repeat(length);
            assertSafe(safeFileName(offered), offered);
          },
        ),
        { numRuns: 200, examples: [['..', 300]] },
      );
    },
  );
});

describe('numberedName', { timeout: 30_000 }, () => {
  test('examples', () => {
    assert.equal(numberedName('report.pdf', 1), 'report (1).pdf');
    assert.equal(numberedName('report.pdf', 2), 'report (2).pdf');
    assert.equal(numberedName('.bashrc', 1), '.bashrc (1)');
    assert.equal(numberedName('archive.tar.gz', 1), 'archive.tar (1).gz');
    assert.equal(numberedName('README', 12), 'README (12)');
  });

  test('n = 0 is the name itself', () => {
    assert.equal(numberedName('report.pdf', 0), 'report.pdf');
  });

  test('distinct n give distinct names that fit in 255 bytes, also for long names (short extension)', () => {
    const name = `${'é'.repeat(100)}.txt`;
    const seen = new Set<string>();
    for (let n = 0; n < 20; n++) {
      const numbered = numberedName(name, n);
      assert.ok(Buffer.byteLength(numbered) <= MAX_STORED_NAME_BYTES);
      assert.ok(numbered.endsWith('.txt'));
      seen.add(numbered);
    }
    assert.equal(seen.size, 20);
  });

  test(
    'a name already at the 255-byte limit still gets a different numbered name',
    () => {
      for (const name of ['n'.repeat(MAX_STORED_NAME_BYTES), `${'n'.repeat(MAX_STORED_NAME_BYTES - 4)}.pdf`]) {
        const numbered = numberedName(name, 1);
        assert.notEqual(numbered, name);
        assert.ok(Buffer.byteLength(numbered) <= MAX_STORED_NAME_BYTES);
      }
    },
  );
});

describe('publishWithoutOverwrite', { timeout: 30_000 }, () => {
  let root: string;
  let incoming: string;
  let tempCounter = 0;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'chat-file-names-'));
    incoming = path.join(root, 'incoming');
    await mkdir(incoming);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A fresh downloads directory per test, so the tests do not see each other's files. */
  async function freshDownloads(): Promise<string> {
    return mkdtemp(path.join(root, 'downloads-'));
  }

  async function tempFile(content: string): Promise<string> {
    const file = path.join(incoming, `part-${++tempCounter}`);
    await writeFile(file, content);
    return file;
  }

  test('publishes under the offered name when it is free', async () => {
    const dir = await freshDownloads();
    const temp = await tempFile('hello');
    const stored = await publishWithoutOverwrite(temp, dir, 'report.pdf');
    assert.equal(stored, path.join(dir, 'report.pdf'));
    assert.equal(await readFile(stored, 'utf8'), 'hello');
    await assert.rejects(readFile(temp), { code: 'ENOENT' });
  });

  test('never overwrites: existing files keep their content, new ones get (1), (2)', async () => {
    const dir = await freshDownloads();
    await writeFile(path.join(dir, 'report.pdf'), 'original');
    const first = await tempFile('first copy');
    const second = await tempFile('second copy');
    const storedFirst = await publishWithoutOverwrite(first, dir, 'report.pdf');
    const storedSecond = await publishWithoutOverwrite(second, dir, 'report.pdf');
    assert.equal(storedFirst, path.join(dir, 'report (1).pdf'));
    assert.equal(storedSecond, path.join(dir, 'report (2).pdf'));
    assert.equal(await readFile(path.join(dir, 'report.pdf'), 'utf8'), 'original');
    assert.equal(await readFile(storedFirst, 'utf8'), 'first copy');
    assert.equal(await readFile(storedSecond, 'utf8'), 'second copy');
    await assert.rejects(readFile(first), { code: 'ENOENT' });
    await assert.rejects(readFile(second), { code: 'ENOENT' });
    assert.deepEqual((await readdir(dir)).sort(), ['report (1).pdf', 'report (2).pdf', 'report.pdf']);
  });

  test('skips a gap-free run of taken names, also when a directory holds the name', async () => {
    const dir = await freshDownloads();
    await mkdir(path.join(dir, 'notes'));
    await writeFile(path.join(dir, 'notes (1)'), 'taken');
    const stored = await publishWithoutOverwrite(await tempFile('new notes'), dir, 'notes');
    assert.equal(stored, path.join(dir, 'notes (2)'));
    assert.equal(await readFile(path.join(dir, 'notes (1)'), 'utf8'), 'taken');
    assert.equal(await readFile(stored, 'utf8'), 'new notes');
  });

  test('10 concurrent publishes of the same name all land under distinct names', async () => {
    const dir = await freshDownloads();
    const contents = Array.from({ length: 10 }, (_, i) => `content of file ${i}`);
    const temps = await Promise.all(contents.map(tempFile));
    const stored = await Promise.all(temps.map((temp) => publishWithoutOverwrite(temp, dir, 'same.txt')));
    assert.equal(new Set(stored).size, 10);
    const expectedNames = ['same.txt', ...Array.from({ length: 9 }, (_, i) => `same (${i + 1}).txt`)];
    assert.deepEqual((await readdir(dir)).sort(), expectedNames.sort());
    for (const [i, file] of stored.entries()) {
      assert.equal(await readFile(file, 'utf8'), contents[i], `${file} holds the wrong data`);
      await assert.rejects(readFile(temps[i]!), { code: 'ENOENT' });
    }
  });

  test('after 5,000 copies of one name the next is stored as (5000) after a few dozen lookups, not 5,000', async () => {
    const dir = await freshDownloads();
    const copies = 5_000;
    for (let n = 0; n < copies; n++) await writeFile(path.join(dir, numberedName('a.bin', n)), `copy ${n}`);
    const triedBefore = fileNamesTried();
    const stored = await publishWithoutOverwrite(await tempFile('the new one'), dir, 'a.bin');
    const tried = fileNamesTried() - triedBefore;
    assert.equal(stored, path.join(dir, `a (${copies}).bin`));
    assert.equal(await readFile(stored, 'utf8'), 'the new one');
    // Doubling to 8192, then halving back: 1 + 14 + 12 lookups; one by one it was 5,001.
    assert.ok(tried <= 2 * Math.ceil(Math.log2(copies)) + 3, `${tried} names tried`);
    assert.equal((await readdir(dir)).length, copies + 1);
  });

  test('names a peer planted at every power of two up to 2^53 do not make the search endless: a free name in a few dozen lookups, and the next store is not held up', async () => {
    const dir = await freshDownloads();
    const planted = ['g.txt', 'g (1).txt', ...Array.from({ length: 53 }, (_, i) => `g (${2 ** (i + 1)}).txt`)];
    for (const name of planted) {
      assert.equal(safeFileName(name), name, 'stored under its own name when the peer sends it');
      await writeFile(path.join(dir, name), `planted ${name}`);
    }
    const triedBefore = fileNamesTried();
    const [stored, other] = await Promise.all([
      publishWithoutOverwrite(await tempFile('the new one'), dir, 'g.txt'),
      publishWithoutOverwrite(await tempFile('an unrelated file'), dir, 'unrelated.pdf'),
    ]);
    const tried = fileNamesTried() - triedBefore;
    assert.ok(!planted.includes(path.basename(stored)), `${stored} was planted`);
    assert.equal(await readFile(stored, 'utf8'), 'the new one');
    assert.equal(other, path.join(dir, 'unrelated.pdf'));
    assert.ok(tried <= 2 * Math.log2(MAX_DOUBLED_STEP) + 8, `${tried} names tried`);
    for (const name of planted) assert.equal(await readFile(path.join(dir, name), 'utf8'), `planted ${name}`);
    assert.equal((await readdir(dir)).length, planted.length + 2);
  });

  test('with gaps among the taken numbers it still finds a free name and replaces nothing', async () => {
    const dir = await freshDownloads();
    const taken = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 30];
    for (const n of taken) await writeFile(path.join(dir, numberedName('gap.txt', n)), `copy ${n}`);
    const stored = [];
    for (let i = 0; i < 20; i++) stored.push(await publishWithoutOverwrite(await tempFile(`new ${i}`), dir, 'gap.txt'));
    assert.equal(new Set(stored).size, 20);
    for (const n of taken) assert.equal(await readFile(path.join(dir, numberedName('gap.txt', n)), 'utf8'), `copy ${n}`);
    for (const [i, file] of stored.entries()) assert.equal(await readFile(file, 'utf8'), `new ${i}`);
    assert.equal((await readdir(dir)).length, taken.length + 20);
  });

  test(
    'a second file with a 255-byte name is published (does not loop forever)',
    async () => {
      const dir = await freshDownloads();
      const name = `${'n'.repeat(MAX_STORED_NAME_BYTES - 4)}.pdf`;
      const existing = path.join(dir, name);
      await writeFile(existing, 'original');
      const publishing = publishWithoutOverwrite(await tempFile('second'), dir, name);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        publishing.then((stored) => ({ stored })),
        new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, 2_000, 'timeout'))),
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // Free the name so the endless loop ends and the test process can exit.
        await unlink(existing);
        await publishing;
        assert.fail('publishWithoutOverwrite did not finish within 2 s');
      }
      assert.notEqual(outcome.stored, existing);
      assert.equal(await readFile(existing, 'utf8'), 'original');
    },
  );
});
