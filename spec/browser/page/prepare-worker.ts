/** The page's preparing worker: all an app's worker file needs. */
import { startPrepareWorker } from '../../../src/browser/index.js';

startPrepareWorker();
