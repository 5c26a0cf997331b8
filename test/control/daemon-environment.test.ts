// `chat daemon start` gives chatd a small young generation through NODE_OPTIONS and one malloc
// arena; these tests hold that the settings are added, that other options survive, and that a
// user's own value wins.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DAEMON_MALLOC_ARENAS, DAEMON_SEMI_SPACE_MIB, daemonEnvironment } from '../../src/control/daemon-environment.ts';

const OWN = `--max-semi-space-size=${DAEMON_SEMI_SPACE_MIB}`;

describe('daemon environment', () => {
  test('NODE_OPTIONS unset or blank: it becomes the semi-space setting alone', () => {
    assert.equal(daemonEnvironment({ PATH: '/bin' }).NODE_OPTIONS, OWN);
    assert.equal(daemonEnvironment({ NODE_OPTIONS: '' }).NODE_OPTIONS, OWN);
    assert.equal(daemonEnvironment({ NODE_OPTIONS: '   ' }).NODE_OPTIONS, OWN);
  });

  test('the rest of the environment and the user\'s other options are kept', () => {
    const env = daemonEnvironment({ PATH: '/bin', DEBUG: '1', NODE_OPTIONS: '--max-old-space-size=512 --enable-source-maps' });
    assert.equal(env.PATH, '/bin');
    assert.equal(env.DEBUG, '1');
    assert.equal(env.NODE_OPTIONS, `--max-old-space-size=512 --enable-source-maps ${OWN}`);
  });

  test('a semi-space size the user chose wins, in either spelling', () => {
    for (const options of ['--max-semi-space-size=4', '--max-semi-space-size 4', '--enable-source-maps --max-semi-space-size=16']) {
      assert.equal(daemonEnvironment({ NODE_OPTIONS: options }).NODE_OPTIONS, options);
    }
  });

  test('a look-alike option is not taken for the user\'s choice', () => {
    assert.equal(daemonEnvironment({ NODE_OPTIONS: '--max-semi-space-size-x=4' }).NODE_OPTIONS, `--max-semi-space-size-x=4 ${OWN}`);
  });

  test('the caller\'s object is not changed', () => {
    const env = { NODE_OPTIONS: '--enable-source-maps' };
    daemonEnvironment(env);
    assert.deepEqual(env, { NODE_OPTIONS: '--enable-source-maps' });
  });

  test('MALLOC_ARENA_MAX: one arena unless the user chose a number', () => {
    assert.equal(daemonEnvironment({}).MALLOC_ARENA_MAX, String(DAEMON_MALLOC_ARENAS));
    assert.equal(daemonEnvironment({ MALLOC_ARENA_MAX: '4' }).MALLOC_ARENA_MAX, '4');
  });
});
