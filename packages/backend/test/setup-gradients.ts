/**
 * Tests train with this package's own gradient functions only (registerTrainingGradients; tfjs-core's Node
 * bundle registers none, and @tensorflow/tfjs-layers is not loaded).
 */
require('@tensorflow/tfjs-core');
require('../src/gradients').registerTrainingGradients();
