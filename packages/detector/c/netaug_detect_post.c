/*
 * netaug_detect_post — FCOS decoding and class-wise NMS of a NetAug.js detector's raw outputs, as the JavaScript
 * decodeRaw of @netaug/detector does it. See netaug_detect_post.h. C11, no allocation, no global state.
 */
#include "netaug_detect_post.h"

#include <stdlib.h>
#include <tgmath.h>

#define NADP_MAX_LOG_DISTANCE 8 /* box values are clamped to ±8 before exp, as in training (MAX_LOG_DISTANCE) */

typedef struct {
  nadp_real score;
  int32_t k; /* location, over all levels in output order */
  int32_t c; /* class */
} nadp_candidate;

/* Where the raw values come from: float32 outputs, or int8 outputs with their quantization. */
typedef struct {
  const float *const *f32;
  const int8_t *const *i8;
  const float *scale;
  const int32_t *zero_point;
} nadp_source;

static float value_at(const nadp_source *s, int level, size_t i) {
  if (s->f32) return s->f32[level][i];
  return (float)((nadp_real)s->scale[level] * (nadp_real)((int32_t)s->i8[level][i] - s->zero_point[level]));
}

static float sigmoid(float v) { return (float)((nadp_real)1 / ((nadp_real)1 + exp(-(nadp_real)v))); }

static size_t align_up(size_t n) {
  const size_t a = _Alignof(max_align_t);
  return (n + a - 1) / a * a;
}

static long long count_locations(const nadp_level *levels, int num_levels) {
  long long n = 0;
  for (int l = 0; l < num_levels; l++) n += (long long)levels[l].height * levels[l].width;
  return n;
}

static int min_int(long long a, long long b) { return (int)(a < b ? a : b); }

void nadp_default_options(nadp_options *o) {
  o->score_threshold = (nadp_real)0.05;
  o->pre_nms_top_k = 1000;
  o->iou_threshold = (nadp_real)0.6;
  o->top_k = 100;
  o->letterbox = NULL;
}

size_t nadp_scratch_size(const nadp_level *levels, int num_levels, int num_classes, const nadp_options *o) {
  const long long pairs = count_locations(levels, num_levels) * num_classes;
  const int pre = min_int(pairs, o->pre_nms_top_k < 0 ? 0 : o->pre_nms_top_k);
  return align_up((size_t)pairs * sizeof(nadp_candidate)) + align_up((size_t)pre * sizeof(nadp_detection));
}

/* Best first; ties: lower location, then lower class (decodeRaw's order). */
static int by_score(const void *pa, const void *pb) {
  const nadp_candidate *a = (const nadp_candidate *)pa;
  const nadp_candidate *b = (const nadp_candidate *)pb;
  if (a->score != b->score) return a->score > b->score ? -1 : 1;
  if (a->k != b->k) return a->k < b->k ? -1 : 1;
  return (a->c > b->c) - (a->c < b->c);
}

static nadp_real maxr(nadp_real a, nadp_real b) { return a > b ? a : b; }
static nadp_real minr(nadp_real a, nadp_real b) { return a < b ? a : b; }

/* clipBox of @netaug/detection: corners clamped to [0, width] x [0, height]. */
static void clip_box(nadp_detection *d, nadp_real width, nadp_real height) {
  const nadp_real x1 = minr(maxr(d->x, 0), width);
  const nadp_real y1 = minr(maxr(d->y, 0), height);
  const nadp_real x2 = minr(maxr(d->x + d->w, 0), width);
  const nadp_real y2 = minr(maxr(d->y + d->h, 0), height);
  d->x = x1;
  d->y = y1;
  d->w = x2 - x1;
  d->h = y2 - y1;
}

static nadp_real iou(const nadp_detection *a, const nadp_detection *b) {
  const nadp_real iw = minr(a->x + a->w, b->x + b->w) - maxr(a->x, b->x);
  const nadp_real ih = minr(a->y + a->h, b->y + b->h) - maxr(a->y, b->y);
  const nadp_real inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const nadp_real uni = maxr(0, a->w) * maxr(0, a->h) + maxr(0, b->w) * maxr(0, b->h) - inter;
  return uni > 0 ? inter / uni : 0;
}

static int decode(const nadp_source *src, const nadp_level *levels, int num_levels, int num_classes,
                  const nadp_options *o, void *scratch, size_t scratch_bytes, nadp_detection *out, int max_out) {
  if (!levels || num_levels < 1 || num_classes < 1 || !o || !out || max_out < 0 || (!scratch && scratch_bytes))
    return NADP_ERR_ARGUMENT;
  for (int l = 0; l < num_levels; l++) {
    const void *data = src->f32 ? (const void *)src->f32[l] : (const void *)src->i8[l];
    if (levels[l].stride < 1 || levels[l].height < 1 || levels[l].width < 1 || !data) return NADP_ERR_ARGUMENT;
  }
  if (scratch_bytes < nadp_scratch_size(levels, num_levels, num_classes, o)) return NADP_ERR_SCRATCH;
  const long long n = count_locations(levels, num_levels);
  const int C = num_classes;
  const size_t K = (size_t)C + 5;
  nadp_candidate *cand = (nadp_candidate *)scratch;
  nadp_detection *dets =
      (nadp_detection *)((unsigned char *)scratch + align_up((size_t)(n * C) * sizeof(nadp_candidate)));

  /* 1. candidates: class probability above the threshold, scored sqrt(p * centerness) */
  long long count = 0;
  int32_t k = 0;
  for (int l = 0; l < num_levels; l++) {
    const size_t cells = (size_t)levels[l].height * levels[l].width;
    for (size_t i = 0; i < cells; i++, k++) {
      const float ctr = sigmoid(value_at(src, l, i * K + (size_t)C + 4));
      for (int c = 0; c < C; c++) {
        const float p = sigmoid(value_at(src, l, i * K + (size_t)c));
        if (!((nadp_real)p > o->score_threshold)) continue;
        const nadp_real score = sqrt((nadp_real)p * (nadp_real)ctr);
        if (score != score) continue; /* a NaN centerness (NaN outputs): never a detection */
        cand[count].score = score;
        cand[count].k = k;
        cand[count].c = c;
        count++;
      }
    }
  }
  /* 2. the best pre_nms_top_k */
  qsort(cand, (size_t)count, sizeof(nadp_candidate), by_score);
  const int pre = min_int(count, o->pre_nms_top_k < 0 ? 0 : o->pre_nms_top_k);

  /* 3. boxes from the locations and their distances, clipped (and letterbox undone) */
  const nadp_real in_w = (nadp_real)levels[0].width * levels[0].stride;
  const nadp_real in_h = (nadp_real)levels[0].height * levels[0].stride;
  int m = 0;
  for (int q = 0; q < pre; q++) {
    int l = 0;
    int32_t cell = cand[q].k; /* the location's level, and its index within the level */
    while (cell >= levels[l].height * levels[l].width) {
      cell -= levels[l].height * levels[l].width;
      l++;
    }
    const int s = levels[l].stride;
    const nadp_real x = ((nadp_real)(cell % levels[l].width) + (nadp_real)0.5) * s;
    const nadp_real y = ((nadp_real)(cell / levels[l].width) + (nadp_real)0.5) * s;
    float ltrb[4];
    for (int j = 0; j < 4; j++) {
      float v = value_at(src, l, (size_t)cell * K + (size_t)C + (size_t)j);
      v = v > NADP_MAX_LOG_DISTANCE ? NADP_MAX_LOG_DISTANCE : v < -NADP_MAX_LOG_DISTANCE ? -NADP_MAX_LOG_DISTANCE : v;
      ltrb[j] = (float)(exp((nadp_real)v) * s);
    }
    const nadp_real x1 = x - ltrb[0], y1 = y - ltrb[1], x2 = x + ltrb[2], y2 = y + ltrb[3];
    nadp_detection d = {x1, y1, x2 - x1, y2 - y1, cand[q].score, cand[q].c};
    clip_box(&d, in_w, in_h);
    if (o->letterbox) {
      const nadp_letterbox *lb = o->letterbox;
      d.x = (d.x - lb->left) / lb->scale_x;
      d.y = (d.y - lb->top) / lb->scale_y;
      d.w = d.w / lb->scale_x;
      d.h = d.h / lb->scale_y;
      clip_box(&d, lb->src_width, lb->src_height);
    }
    if (d.w > 0 && d.h > 0) dets[m++] = d;
  }

  /* 4. class-wise greedy NMS, best first */
  const int limit = o->top_k < max_out ? o->top_k : max_out;
  int kept = 0;
  for (int q = 0; q < m && kept < limit; q++) {
    int suppressed = 0;
    for (int j = 0; j < kept && !suppressed; j++)
      suppressed = out[j].label == dets[q].label && iou(&dets[q], &out[j]) > o->iou_threshold;
    if (!suppressed) out[kept++] = dets[q];
  }
  return kept;
}

int nadp_decode(const float *const *outputs, const nadp_level *levels, int num_levels, int num_classes,
                const nadp_options *options, void *scratch, size_t scratch_bytes, nadp_detection *out, int max_out) {
  if (!outputs) return NADP_ERR_ARGUMENT;
  const nadp_source src = {outputs, NULL, NULL, NULL};
  return decode(&src, levels, num_levels, num_classes, options, scratch, scratch_bytes, out, max_out);
}

int nadp_decode_int8(const int8_t *const *outputs, const float *scale, const int32_t *zero_point,
                     const nadp_level *levels, int num_levels, int num_classes, const nadp_options *options,
                     void *scratch, size_t scratch_bytes, nadp_detection *out, int max_out) {
  if (!outputs || !scale || !zero_point) return NADP_ERR_ARGUMENT;
  const nadp_source src = {NULL, outputs, scale, zero_point};
  return decode(&src, levels, num_levels, num_classes, options, scratch, scratch_bytes, out, max_out);
}
