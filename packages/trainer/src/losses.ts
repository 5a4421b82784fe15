import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean cross-entropy of `logits [N, K]` against int `labels [N]`, with label smoothing `epsilon` as PyTorch
 * defines it: the target is `(1 − ε)·onehot + ε/K`.
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, epsilon = 0): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1]!;
    let target = tf.cast(tf.oneHot(labels as tf.Tensor1D, k), 'float32');
    if (epsilon > 0) target = tf.add(tf.mul(target, 1 - epsilon), epsilon / k);
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), 1))) as tf.Scalar;
  });
}

/**
 * Knowledge-distillation loss `T² · KL(softmax(teacher/T) ‖ softmax(student/T))`, averaged over the batch.
 * Gradients flow to the student only when the teacher logits do not depend on the student's variables.
 */
export function distillationLoss(student: tf.Tensor, teacher: tf.Tensor, temperature = 1): tf.Scalar {
  return tf.tidy(() => {
    const pt = tf.softmax(tf.div(teacher, temperature) as tf.Tensor2D);
    const logPt = tf.logSoftmax(tf.div(teacher, temperature) as tf.Tensor2D);
    const logPs = tf.logSoftmax(tf.div(student, temperature) as tf.Tensor2D);
    const kl = tf.sum(tf.mul(pt, tf.sub(logPt, logPs)), 1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}

/** Number of rows whose label is among the `k` largest logits. */
export function topKCorrect(logits: tf.Tensor, labels: tf.Tensor, k: number): number {
  return tf.tidy(() => {
    const kk = Math.min(k, logits.shape[1]!);
    const { indices } = tf.topk(logits as tf.Tensor2D, kk);
    const hit = tf.any(tf.equal(indices, tf.expandDims(labels, 1)), 1);
    return tf.sum(tf.cast(hit, 'int32')).dataSync()[0];
  });
}
