/*
 * netaug_detect_post — post-processing of a NetAug.js FCOS-style detector exported from @netaug/detector
 * (Detector.extract() → ONNX / TFLite / TFLite-Micro), in C11 with no allocation: the same decoding and NMS as the
 * package's JavaScript `decodeRaw`.
 *
 * Input: the model's raw outputs, one per level, finest first, each [H_l, W_l, C + 5] NHWC (batch of one): per
 * location (row-major) C class logits, 4 box values v = log(ltrb / stride) (left, top, right, bottom) and one
 * centerness logit. Float32 outputs (nadp_decode) or int8 outputs with their quantization (nadp_decode_int8).
 *
 * Steps (as decodeRaw):
 *   1. p = sigmoid(class logit), centerness = sigmoid(centerness logit); every (location, class) with
 *      p > score_threshold is a candidate, scored sqrt(p * centerness);
 *   2. the pre_nms_top_k best candidates (ties: location, then class, in output order);
 *   3. box [x - l, y - t, x + r, y + b] with l = exp(clamp(v, -8, 8)) * stride and the location's centre
 *      x = (j + 0.5) * stride, y = (i + 0.5) * stride, clipped to the input; with a letterbox, mapped back to the
 *      source image and clipped to it; empty boxes dropped;
 *   4. class-wise greedy NMS: a box is dropped when a kept box of its class overlaps it with IoU > iou_threshold;
 *      at most top_k (and max_out) kept, best first.
 *
 * Arithmetic: probabilities and distances are rounded to float as the JavaScript does (Float32Array); the rest is
 * in nadp_real, double by default, which gives decodeRaw's detections exactly (tested: identical values, order
 * included). Compile with -DNADP_REAL=float for MCUs without a double-precision FPU: candidates then differ from
 * the JavaScript's by float rounding (measured ≤ 1.6e-5 px, ≤ 1e-7 in score), and NMS may keep the other box of
 * two same-class boxes whose scores are equal to that precision. Candidates with a NaN score are skipped.
 *
 * Memory: the caller passes a scratch buffer of nadp_scratch_size(...) bytes (about 16 bytes per location and
 * class plus 48 per pre-NMS candidate).
 */
#ifndef NETAUG_DETECT_POST_H_
#define NETAUG_DETECT_POST_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef NADP_REAL
#define NADP_REAL double
#endif
typedef NADP_REAL nadp_real;

/** One output level: its stride and its map size (input size / stride). */
typedef struct {
  int stride;
  int height;
  int width;
} nadp_level;

/** The letterbox an input was made with (@netaug/detection's LetterboxParams): boxes go back to the source. */
typedef struct {
  nadp_real left, top;       /* offset of the resized image in the input */
  nadp_real scale_x, scale_y; /* input pixels per source pixel */
  nadp_real src_width, src_height;
} nadp_letterbox;

typedef struct {
  nadp_real score_threshold; /* class probability must be above it (0.05) */
  int pre_nms_top_k;         /* candidates kept before NMS (1000) */
  nadp_real iou_threshold;   /* NMS: IoU above it suppresses (0.6) */
  int top_k;                 /* detections kept (100) */
  const nadp_letterbox *letterbox; /* NULL: boxes in input pixels */
} nadp_options;

/** A detection: top-left corner, size, class, score. */
typedef struct {
  nadp_real x, y, w, h;
  nadp_real score;
  int label;
} nadp_detection;

/** Error codes (negative returns). */
#define NADP_ERR_ARGUMENT (-1) /* a NULL pointer, no levels, classes < 1, a level of size < 1 */
#define NADP_ERR_SCRATCH (-2)  /* scratch buffer smaller than nadp_scratch_size(...) */

/** The defaults of decodeRaw: 0.05, 1000, 0.6, 100, no letterbox. */
void nadp_default_options(nadp_options *options);

/** Bytes of scratch memory nadp_decode / nadp_decode_int8 need for these levels, classes and options. */
size_t nadp_scratch_size(const nadp_level *levels, int num_levels, int num_classes, const nadp_options *options);

/**
 * Decodes one image's float32 outputs (outputs[l]: H_l * W_l * (num_classes + 5) values) into at most
 * min(top_k, max_out) detections written to out, best first. Returns their count, or a NADP_ERR_* code.
 */
int nadp_decode(const float *const *outputs, const nadp_level *levels, int num_levels, int num_classes,
                const nadp_options *options, void *scratch, size_t scratch_bytes, nadp_detection *out,
                int max_out);

/**
 * The same for int8 outputs (a TFLite-Micro model with int8 output tensors): value = scale[l] * (q - zero_point[l]),
 * rounded to float as TFLite's DEQUANTIZE does.
 */
int nadp_decode_int8(const int8_t *const *outputs, const float *scale, const int32_t *zero_point,
                     const nadp_level *levels, int num_levels, int num_classes, const nadp_options *options,
                     void *scratch, size_t scratch_bytes, nadp_detection *out, int max_out);

#ifdef __cplusplus
}
#endif

#endif /* NETAUG_DETECT_POST_H_ */
