"""PyTorch reference for src/onnx/import.test.ts: a MobileNetV2-Tiny written in plain torch.nn (no torchvision),
with the structure of the zoo's `mobilenetv2-tiny` in its small-input form (@netaug/supernet), random weights and
random batch-norm statistics, exported to ONNX the two ways PyTorch users do:

  bn.onnx      eval-mode BN kept as BatchNormalization (training=TrainingMode.PRESERVE on a model in eval mode)
  folded.onnx  eval mode with the exporter's defaults: BatchNormalization folded into the convolutions (+ bias)
  tfpad.onnx   (with --tf-pad-size) the same weights with TensorFlow SAME padding written as nn.ZeroPad2d before
               the stride-2 convolutions of an even-sized input, BN folded

and the logits of a fixed random NCHW input, computed in float64 by the same model (input.f32 little-endian
float32 [batch, C, size, size], logits.f64 little-endian float64 [batch, classes]; input-tfpad.f32 and
logits-tfpad.f64 for tfpad.onnx at --tf-pad-size).

The layer code follows torchvision's MobileNetV2 (ConvBNReLU, InvertedResidual, _make_divisible); the
differences are the zoo's: a 448-wide last conv (MobileNetV2-Tiny), small-input strides (stem stride 1 and the
first stride-2 stage at stride 1), and no shortcut on the first block of a stage even when its stride is 1 and
its widths match.

Usage: python3 torch_mobilenetv2.py OUT_DIR [--size 25] [--channels 3] [--classes 10] [--batch 2] [--seed 0]
                                           [--tf-pad-size 28]
"""
import argparse
import os
import sys

import torch
import torch.nn as nn


def make_divisible(v, divisor=8, min_value=None):
    # torchvision's _make_divisible (and @netaug/core's makeDivisible)
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def same_pad(size, k, s):
    """TensorFlow SAME padding of one axis: (before, after)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class ConvBNAct(nn.Module):
    """Conv (no bias) → BN → optional ReLU6; `tf_pad_at` (the input size) pads as TensorFlow SAME."""

    def __init__(self, cin, cout, k=3, stride=1, groups=1, act=True, tf_pad_at=None):
        super().__init__()
        pad = (k - 1) // 2
        self.pad = None
        if tf_pad_at is not None:
            # TensorFlow SAME for this input size; PyTorch's symmetric padding differs where SAME is asymmetric
            ph = same_pad(tf_pad_at, k, stride)
            if ph[0] != ph[1]:
                self.pad = nn.ZeroPad2d((ph[0], ph[1], ph[0], ph[1]))
                pad = 0
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU6(inplace=True) if act else None

    def forward(self, x):
        if self.pad is not None:
            x = self.pad(x)
        x = self.bn(self.conv(x))
        return self.act(x) if self.act is not None else x


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio, shortcut, size, tf_pad):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = shortcut
        layers = []
        if expand_ratio != 1:
            layers.append(ConvBNAct(inp, hidden, k=1))
        layers += [
            ConvBNAct(hidden, hidden, 3, stride, groups=hidden, tf_pad_at=size if tf_pad else None),
            ConvBNAct(hidden, oup, k=1, act=False),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2Tiny(nn.Module):
    """MobileNetV2 w0.35 with a 448-wide last conv, small-input form (total stride 8)."""

    def __init__(self, in_ch=3, num_classes=10, width=0.35, last_channel=448, size=25, tf_pad=False):
        super().__init__()
        settings = [  # t, c, n, s (torchvision's table)
            [1, 16, 1, 1],
            [6, 24, 2, 2],
            [6, 32, 3, 2],
            [6, 64, 4, 2],
            [6, 96, 3, 1],
            [6, 160, 3, 2],
            [6, 320, 1, 1],
        ]
        cin = make_divisible(32 * width)
        features = [ConvBNAct(in_ch, cin, 3, 1)]  # small input: stem stride 1
        reduced = False
        for t, c, n, s in settings:
            cout = make_divisible(c * width)
            if s == 2 and not reduced:  # small input: the first stride-2 stage runs at stride 1
                s, reduced = 1, True
            for i in range(n):
                stride = s if i == 0 else 1
                shortcut = i > 0 and stride == 1 and cin == cout
                features.append(InvertedResidual(cin, cout, stride, t, shortcut, size, tf_pad))
                if stride == 2:
                    size = -(-size // 2)
                cin = cout
        features.append(ConvBNAct(cin, last_channel, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Linear(last_channel, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


def randomize(model, calib):
    """Random weights and non-trivial BN statistics: the batch statistics of random data, perturbed."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average: one pass sets the running statistics to the batch's
            m.reset_running_stats()
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0, 0.2)
    model.train()
    with torch.no_grad():
        model(calib)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                std = m.running_var.sqrt()
                m.running_mean.add_(torch.randn_like(std) * 0.2 * std)
                m.running_var.mul_(torch.empty_like(std).uniform_(0.6, 1.6))
    model.eval()


def export(model, x, path, **kw):
    torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['logits'], **kw)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('out')
    p.add_argument('--size', type=int, default=25)
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--tf-pad-size', type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    model = MobileNetV2Tiny(a.channels, a.classes, size=a.size)
    randomize(model, torch.randn(16, a.channels, a.size, a.size))
    x = torch.randn(a.batch, a.channels, a.size, a.size)
    export(model, x, os.path.join(a.out, 'bn.onnx'), training=torch.onnx.TrainingMode.PRESERVE)
    export(model, x, os.path.join(a.out, 'folded.onnx'))
    state = model.state_dict()
    x.numpy().astype('<f4').tofile(os.path.join(a.out, 'input.f32'))
    with torch.no_grad():
        model.double()(x.double()).numpy().astype('<f8').tofile(os.path.join(a.out, 'logits.f64'))
    if a.tf_pad_size:
        s = a.tf_pad_size
        tf_model = MobileNetV2Tiny(a.channels, a.classes, size=s, tf_pad=True)
        # the same weights (model.double() above converted the state's tensors in place; float32 → float64 → float32
        # is exact), other padding layers
        tf_model.load_state_dict({k: v.float() for k, v in state.items()})
        tf_model.eval()
        xt = torch.randn(a.batch, a.channels, s, s)
        export(tf_model, xt, os.path.join(a.out, 'tfpad.onnx'))
        xt.numpy().astype('<f4').tofile(os.path.join(a.out, 'input-tfpad.f32'))
        with torch.no_grad():
            tf_model.double()(xt.double()).numpy().astype('<f8').tofile(os.path.join(a.out, 'logits-tfpad.f64'))
    print(torch.__version__)


if __name__ == '__main__':
    sys.exit(main())
