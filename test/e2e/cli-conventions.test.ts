// The CLI conventions people expect of an oclif tool, with the built CLI: help, version, "did you
// mean", global flags before the command, USAGE with arguments, shell completion that a real bash
// completes with, and colour only on a terminal.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ChatHome, CLI, collect, ROOT, type RunResult } from '../helpers/chat.ts';
import { errorLine } from '../helpers/error-line.ts';

const SHELL_TIMEOUT_MS = 30_000;
const SGR = /\u001b\[[\d;]*m/;
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** `text` as one word for sh and zsh. */
const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

const hasShell = (shell: string) => spawnSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;

/** Runs `script` in `shell` (bash or zsh) with nothing from the user's rc files. */
function runShell(shell: 'bash' | 'zsh', script: string): Promise<RunResult> {
  const args = shell === 'bash' ? ['--norc', '--noprofile', '-c', script] : ['-f', '-c', script];
  return collect(spawn(shell, args, { stdio: ['pipe', 'pipe', 'pipe'] }), undefined, SHELL_TIMEOUT_MS);
}

describe('CLI conventions', { timeout: 180_000 }, () => {
  const home = ChatHome.forSuite();

  before(async () => {
    await home.startDaemon('alice');
  });

  test('chat help COMMAND is COMMAND --help; help for a topic; an unknown one suggests the nearest', async () => {
    const help = await home.run(['help', 'send']);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(help.stdout, (await home.run(['send', '--help'])).stdout);
    const topic = await home.run(['help', 'daemon', 'start']);
    assert.equal(topic.code, 0, topic.stderr);
    assert.match(topic.stdout, /\$ chat daemon start/);
    const unknown = await home.run(['help', 'sned']);
    assert.equal(unknown.code, 2);
    assert.equal(errorLine(unknown), 'chat: unknown command "sned"; did you mean "chat send"? (see: chat --help)');
  });

  test('chat version, chat -v and chat --version print the version (exit 0); --json has it as data', async () => {
    for (const args of [['version'], ['-v'], ['--version']]) {
      const result = await home.run(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, `chat/${VERSION} ${process.platform}-${process.arch} node-v${process.versions.node}\n`, args.join(' '));
    }
    const json = JSON.parse((await home.run(['version', '--json'])).stdout) as { version: string; node: string };
    assert.equal(json.version, VERSION);
    assert.equal(json.node, process.versions.node);
  });

  test('a reader that goes away (| head) ends any command quietly with its own exit code, not 13 and a warning', async () => {
    // Through oclif, and through the fast path (daemon status, send, transfer).
    const file = path.join(home.dir, 'small.txt');
    await writeFile(file, 'small\n');
    await home.startDaemon('carol');
    const dave = await home.startDaemon('dave');
    assert.equal((await home.run(['connect', '--profile', 'carol', String(dave.port)])).code, 0);
    const commands = [
      ['help'], ['send', '--help'], ['version'], ['peers', '--profile', 'alice'], ['id', '--profile', 'alice'],
      ['daemon', 'status', '--profile', 'alice'], ['send', '--profile', 'carol', 'x'], ['transfer', '--profile', 'carol', file],
    ];
    for (const args of commands) {
      const child = home.spawn(args);
      // The reading end is closed before the first line: every write meets EPIPE.
      child.stdout!.destroy();
      const result = await collect(child, undefined, 30_000);
      assert.deepEqual({ code: result.code, stderr: result.stderr }, { code: 0, stderr: '' }, args.join(' '));
    }
    const failing = home.spawn(['connect', '--profile', 'alice', 'abc']);
    failing.stdout!.destroy();
    const failed = await collect(failing, undefined, 30_000);
    assert.equal(failed.code, 2, failed.stderr);
    assert.match(failed.stderr, /^chat: invalid peer address "abc"/);
  });

  test('a mistyped command: exit 2 and "did you mean" the nearest one', async () => {
    const cases: Array<[string[], string]> = [
      [['sned', 'hello'], 'chat: unknown command "sned"; did you mean "chat send"? (see: chat --help)'],
      [['deamon', 'status'], 'chat: unknown command "deamon status"; did you mean "chat daemon status"? (see: chat --help)'],
      [['nosuchcommand'], 'chat: unknown command "nosuchcommand"; see: chat --help'],
    ];
    for (const [args, line] of cases) {
      const result = await home.run(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.equal(errorLine(result), line);
    }
  });

  test('global flags before the command: --profile/-p/--json, through oclif and through the fast path', async () => {
    const id = await home.run(['--profile', 'alice', 'id', '--json']);
    assert.equal(id.code, 0, id.stderr);
    assert.equal(JSON.parse(id.stdout).name, 'alice');
    const status = await home.run(['-p', 'alice', '--json', 'daemon', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).profile, 'alice');
    const oclif = await home.run(['-p', 'alice', '--json', 'daemon', 'status'], { env: { CHAT_NO_FAST_PATH: '1' } });
    assert.deepEqual(JSON.parse(oclif.stdout).pid, JSON.parse(status.stdout).pid);
    const nobody = await home.run(['--profile=nobody', 'send', '--', '-p']);
    assert.equal(nobody.code, 1);
    assert.match(errorLine(nobody), /not running for profile "nobody"/);
  });

  test('USAGE shows the arguments: chat send [TEXT...] with the 256 KiB limit', async () => {
    const help = await home.run(['send', '--help']);
    assert.match(help.stdout, /USAGE\n {2}\$ chat send \[TEXT\.\.\.\] /);
    assert.match(help.stdout, /ARGUMENTS\n {2}\[TEXT\.\.\.\] .*at most 256 KiB/s);
    assert.match((await home.run(['transfer', '--help'])).stdout, /\$ chat transfer FILE /);
  });

  test('a missing argument is a usage line, not "Missing 1 required arg:: file"', async () => {
    const transfer = await home.run(['transfer', '--profile', 'alice']);
    assert.equal(transfer.code, 2);
    assert.equal(errorLine(transfer), 'chat: missing FILE (the file to send); usage: chat transfer FILE');
    const forget = await home.run(['peers', 'forget']);
    assert.equal(forget.code, 2);
    assert.equal(errorLine(forget), 'chat: missing NAME (the peer name, as "chat peers" lists it); usage: chat peers forget NAME');
  });

  test('chat autocomplete bash: a script that bash sources and completes chat se<TAB>, topics and flags with', { skip: !hasShell('bash') }, async () => {
    const generated = await home.run(['autocomplete', 'bash']);
    assert.equal(generated.code, 0, generated.stderr);
    const scriptFile = path.join(home.dir, 'chat.bash');
    await writeFile(scriptFile, generated.stdout);
    // What bash calls on TAB: the function `complete -p chat` names, with COMP_WORDS/COMP_CWORD set.
    const shell = await runShell('bash', `
      source ${JSON.stringify(scriptFile)}
      complete -p chat
      function_name=$(complete -p chat | sed -E 's/.* -F ([^ ]+) .*/\\1/')
      t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); "$function_name"; echo "$*=\${COMPREPLY[*]}"; }
      t chat se
      t chat daemon st
      t chat -p alice daemon st
      t chat send --ti
      t chat send --timeout ''
      t chat outbox ''
      t chat transfer ${JSON.stringify(path.join(home.dir, 'chat.b'))}
    `);
    assert.equal(shell.code, 0, shell.stderr);
    assert.equal(shell.stderr, '');
    const lines = shell.stdout.trim().split('\n');
    assert.match(lines[0]!, /^complete -F \S+ chat$/);
    assert.deepEqual(lines.slice(1), [
      'chat se=send',
      'chat daemon st=start status stop',
      'chat -p alice daemon st=start status stop',
      'chat send --ti=--timeout',
      'chat send --timeout =',
      'chat outbox =drop',
      `chat transfer ${path.join(home.dir, 'chat.b')}=${scriptFile}`,
    ]);
  });

  test('chat autocomplete zsh: an interactive zsh (in a pty) with compinit completes chat se<TAB> with it', { skip: !hasShell('zsh') }, async () => {
    const generated = await home.run(['autocomplete', 'zsh']);
    assert.equal(generated.code, 0, generated.stderr);
    const scriptFile = path.join(home.dir, 'chat.zsh');
    await writeFile(scriptFile, generated.stdout);
    const partial = path.join(home.dir, 'chat.zs');
    // zsh/zpty runs a real interactive zsh: each line is typed with a TAB, then Enter; `chat` there
    // is a function that prints the words it got, so what completion made of the line is read back.
    const shell = await runShell('zsh', `
      zmodload zsh/zpty
      zpty z 'PS1="> " TERM=dumb zsh -f -i'
      zpty -w z 'autoload -Uz compinit && compinit -u -D'
      zpty -w z ${shellQuote(`source ${shellQuote(scriptFile)}`)}
      zpty -w z 'function chat { print -r -- "R""AN<$*>"; }'
      t() {
        zpty -wn z "$1"$'\t'
        zpty -wn z $'\r'
        local out
        zpty -r z out '*RAN<*>*'
        print -r -- "\${\${out##*RAN<}%%>*}"
      }
      t 'chat se'
      t 'chat daemon star'
      t 'chat -p alice daemon sto'
      t 'chat send --ti'
      t 'chat outbox d'
      t ${shellQuote(`chat transfer ${partial}`)}
      zpty -d z
    `);
    assert.equal(shell.code, 0, shell.stderr);
    assert.deepEqual(shell.stdout.trim().split('\n'), [
      'send',
      'daemon start',
      '-p alice daemon stop',
      'send --timeout',
      'outbox drop',
      `transfer ${scriptFile}`,
    ]);
  });

  test('chat autocomplete powershell: a native argument completer for chat with every command', async () => {
    const generated = await home.run(['autocomplete', 'powershell']);
    assert.equal(generated.code, 0, generated.stderr);
    assert.match(generated.stdout, /^Register-ArgumentCompleter -Native -CommandName 'chat' -ScriptBlock \{$/m);
    for (const id of ['send', 'daemon start', 'transfers cancel', 'version']) assert.ok(generated.stdout.includes(`'${id}'`), id);
    const unknown = await home.run(['autocomplete', 'fish']);
    assert.equal(unknown.code, 2);
  });

  test('colour: names and event kinds on a terminal; none in a pipe or with NO_COLOR; FORCE_COLOR forces it', { skip: !existsSync('/usr/bin/script') }, async () => {
    // `script` gives the CLI a terminal for its standard output.
    const onTerminal = (env: NodeJS.ProcessEnv) =>
      collect(spawn('/usr/bin/script', ['-qec', `${process.execPath} ${CLI} id --profile alice`, '/dev/null'], { env: home.env({ TERM: 'xterm', ...env }) }), undefined, SHELL_TIMEOUT_MS);
    const coloured = await onTerminal({});
    assert.equal(coloured.code, 0, coloured.stderr);
    assert.match(coloured.stdout, /name {9}\u001b\[1;36malice\u001b\[0m/);
    assert.doesNotMatch((await onTerminal({ NO_COLOR: '1' })).stdout, SGR);
    const piped = await home.run(['id', '--profile', 'alice']);
    assert.match(piped.stdout, /^name {9}alice\n/);
    assert.doesNotMatch(piped.stdout, SGR);
    const forced = await home.run(['id', '--profile', 'alice'], { env: { FORCE_COLOR: '1' } });
    assert.match(forced.stdout, /\u001b\[1;36malice\u001b\[0m/);
    // --json is for scripts: never coloured.
    assert.doesNotMatch((await home.run(['id', '--profile', 'alice', '--json'], { env: { FORCE_COLOR: '1' } })).stdout, SGR);
  });

  test('npm start starts the daemon and says how to stop it', async () => {
    const result = await collect(
      spawn('npm', ['start', '--silent', '--', '--profile', 'npmstart'], { cwd: ROOT, env: home.env() }),
      undefined,
      SHELL_TIMEOUT_MS,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^chatd started: "npmstart" listening on 127\.0\.0\.1:\d+ \(pid \d+, profile npmstart\); stop it with: chat daemon stop --profile npmstart$/m);
    const again = await home.run(['daemon', 'start']);
    assert.match(again.stderr, /; stop it with: chat daemon stop\n$/, 'the default profile needs no --profile');
  });
});
