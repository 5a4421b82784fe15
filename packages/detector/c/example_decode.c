/*
 * Example (and the package's test harness): decodes raw detector outputs stored in a file with
 * netaug_detect_post and prints the detections.
 *
 *   gcc -std=c11 -O2 example_decode.c netaug_detect_post.c -lm -o example_decode
 *   ./example_decode spec.txt raw.bin
 *
 * spec.txt (whitespace-separated, in this order):
 *   classes <C>
 *   levels <L>                      then L lines:  <stride> <height> <width>
 *   threshold <t> pre <k> iou <t> topk <k>
 *   letterbox 0 | letterbox 1 <left> <top> <scale_x> <scale_y> <src_width> <src_height>
 *   int8 0 | int8 1                 then L lines:  <scale> <zero_point>
 *   images <M>
 * raw.bin: for each image, for each level, height * width * (C + 5) float32 (little-endian) or int8 values.
 * Output: per image a line "image <i> <n>", then n lines "<label> <score> <x> <y> <w> <h>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaug_detect_post.h"

#define MAX_LEVELS 8

static int expect(FILE *f, const char *word) {
  char buf[32];
  return fscanf(f, "%31s", buf) == 1 && strcmp(buf, word) == 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s spec.txt raw.bin\n", argv[0]);
    return 2;
  }
  FILE *spec = fopen(argv[1], "r");
  FILE *raw = fopen(argv[2], "rb");
  if (!spec || !raw) {
    fprintf(stderr, "cannot open %s\n", spec ? argv[2] : argv[1]);
    return 2;
  }
  int classes = 0, num_levels = 0, has_lb = 0, is_int8 = 0, images = 0;
  nadp_level levels[MAX_LEVELS];
  float scale[MAX_LEVELS];
  int32_t zero_point[MAX_LEVELS];
  double thr, iou;
  nadp_options o;
  nadp_letterbox lb;
  nadp_default_options(&o);
  int ok = expect(spec, "classes") && fscanf(spec, "%d", &classes) == 1 && expect(spec, "levels") &&
           fscanf(spec, "%d", &num_levels) == 1 && num_levels >= 1 && num_levels <= MAX_LEVELS;
  for (int l = 0; ok && l < num_levels; l++)
    ok = fscanf(spec, "%d %d %d", &levels[l].stride, &levels[l].height, &levels[l].width) == 3;
  ok = ok && expect(spec, "threshold") && fscanf(spec, "%lf", &thr) == 1 && expect(spec, "pre") &&
       fscanf(spec, "%d", &o.pre_nms_top_k) == 1 && expect(spec, "iou") && fscanf(spec, "%lf", &iou) == 1 &&
       expect(spec, "topk") && fscanf(spec, "%d", &o.top_k) == 1 && expect(spec, "letterbox") &&
       fscanf(spec, "%d", &has_lb) == 1;
  if (ok && has_lb) {
    double v[6];
    ok = fscanf(spec, "%lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6;
    lb.left = (nadp_real)v[0];
    lb.top = (nadp_real)v[1];
    lb.scale_x = (nadp_real)v[2];
    lb.scale_y = (nadp_real)v[3];
    lb.src_width = (nadp_real)v[4];
    lb.src_height = (nadp_real)v[5];
    o.letterbox = &lb;
  }
  ok = ok && expect(spec, "int8") && fscanf(spec, "%d", &is_int8) == 1;
  for (int l = 0; ok && is_int8 && l < num_levels; l++) {
    int zp;
    ok = fscanf(spec, "%f %d", &scale[l], &zp) == 2;
    zero_point[l] = zp;
  }
  ok = ok && expect(spec, "images") && fscanf(spec, "%d", &images) == 1;
  fclose(spec);
  if (!ok) {
    fprintf(stderr, "%s: not a spec file (see the comment at the top of example_decode.c)\n", argv[1]);
    return 2;
  }
  o.score_threshold = (nadp_real)thr;
  o.iou_threshold = (nadp_real)iou;

  const size_t K = (size_t)classes + 5;
  const size_t elem = is_int8 ? 1 : 4;
  void *data[MAX_LEVELS];
  for (int l = 0; l < num_levels; l++) data[l] = malloc((size_t)levels[l].height * levels[l].width * K * elem);
  const size_t scratch_bytes = nadp_scratch_size(levels, num_levels, classes, &o);
  void *scratch = malloc(scratch_bytes);
  const int max_out = o.top_k > 0 ? o.top_k : 1;
  nadp_detection *dets = (nadp_detection *)malloc((size_t)max_out * sizeof(nadp_detection));
  int status = 0;
  for (int i = 0; i < images && status == 0; i++) {
    for (int l = 0; l < num_levels; l++) {
      const size_t count = (size_t)levels[l].height * levels[l].width * K;
      if (fread(data[l], elem, count, raw) != count) {
        fprintf(stderr, "%s: too short for image %d\n", argv[2], i);
        status = 2;
      }
    }
    if (status) break;
    const int n = is_int8 ? nadp_decode_int8((const int8_t *const *)data, scale, zero_point, levels, num_levels,
                                             classes, &o, scratch, scratch_bytes, dets, max_out)
                          : nadp_decode((const float *const *)data, levels, num_levels, classes, &o, scratch,
                                        scratch_bytes, dets, max_out);
    if (n < 0) {
      fprintf(stderr, "nadp_decode failed: %d\n", n);
      status = 1;
      break;
    }
    printf("image %d %d\n", i, n);
    for (int k = 0; k < n; k++)
      printf("%d %.17g %.17g %.17g %.17g %.17g\n", dets[k].label, (double)dets[k].score, (double)dets[k].x,
             (double)dets[k].y, (double)dets[k].w, (double)dets[k].h);
  }
  for (int l = 0; l < num_levels; l++) free(data[l]);
  free(scratch);
  free(dets);
  fclose(raw);
  return status;
}
