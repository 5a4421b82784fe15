/**
 * Registers tfjs' gradient definitions: tfjs-core's Node bundle has none; the Node bundle of
 * @tensorflow/tfjs-layers registers all of them when loaded (as initBackend does when they are missing).
 */
require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-layers');
