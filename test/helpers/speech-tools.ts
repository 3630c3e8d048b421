// The offline speech tools the voice tests use (Debian's espeak-ng and pocketsphinx with its US English model), and
// why the tests that need them are skipped when they are missing.
import { existsSync } from 'node:fs';
import { findProgram } from '../../src/voice/providers/local/exec';
import { POCKETSPHINX_MODEL_DIR } from '../../src/voice/providers/local/stt';

export const espeak = findProgram('espeak-ng');
export const pocketsphinx = findProgram('pocketsphinx_continuous');
/** Why the spoken tests cannot run here; null when they can. */
export const speechToolsMissing = !espeak
  ? 'espeak-ng is not installed (bash .ci/voice-deps.sh)'
  : !pocketsphinx || !existsSync(POCKETSPHINX_MODEL_DIR)
    ? 'pocketsphinx / pocketsphinx-en-us are not installed (bash .ci/voice-deps.sh)'
    : null;
