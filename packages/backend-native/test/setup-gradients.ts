/**
 * Registers the gradient definitions training needs (tfjs-core's Node bundle has none): @netaug/backend's own,
 * as initBackend does.
 */
require('@tensorflow/tfjs-core');
require('@netaug/backend').registerTrainingGradients();
