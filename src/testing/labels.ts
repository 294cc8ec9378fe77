/** Labels the embedded server gives (the benign test model) and the model input size it checks. */
export {
  BENIGN_LABELS,
  ENTROPY_LABEL,
  KNOWN_MD5_LABEL,
  KNOWN_SHA1_LABEL,
  PCSAM_LABEL,
  type BenignLabel,
} from '../labels.js';
export { MODEL_INPUT_BYTES, MODEL_INPUT_SIZE as MODEL_SIZE } from '../imaging/prepare.js';
