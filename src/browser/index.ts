/**
 * The athena-rx/browser entry point: what a browser page uses, with no Node module.
 *
 * @module athena-rx/browser
 */
export {
  classifyVia,
  DEFAULT_VIA_RECONNECT,
  type ClassifyViaOptions,
  type ViaInput,
  type ViaSocket,
  type WebSocketFactory,
} from './classify-via.js';
