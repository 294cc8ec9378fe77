/** The preparation pool's worker script: decoders and the bilinear kernel, fed by `resize`. */
import { startPrepareWorker } from 'athena-rx/browser';

startPrepareWorker();
