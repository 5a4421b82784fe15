#!/usr/bin/env python3
"""PyTorch side of `netaug bench step`: times the same training step on the same architectures.

Reads one JSON object on stdin:
  {"threads": 2, "batch": 64, "input": [H, W, C], "numClasses": 10, "warmup": 2, "steps": 10,
   "cases": [{"id": "...", "strategy": "baseline" | "netaug", "tiny": IR, "aug": [IR, ...]}]}
where IR is a NetAug ModelIR with weight *shapes* only (data stripped). A baseline step is forward + loss +
backward + SGD update of the tiny model, built as a static torch module with the same layers, channel counts,
kernels and strides. A NetAug case with "full" (the supernet's largest config) is the authors' weight-sharing
step: ONE set of full-size weights; the tiny model and the augmented model run on their first channels (weights
sliced [:out, :in], batch norm on the first channels of its statistics), one loss each, one backward, one SGD
update of the shared weights. Without "full", each architecture is a separate static module (the older
comparison). Step i (warm-up included) uses aug[i % len(aug)], as the JS side does. A case may override
"warmup" and "steps"; "check": true also reports the largest difference between the shared net's tiny
forward pass and a static module holding copies of the sliced weights. Prints one JSON line per case, with the
process's peak RSS (each case should run in its own process for that figure to be the case's own).
"""
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Act(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, x):
        k = self.kind
        if k == "relu":
            return F.relu(x)
        if k == "relu6":
            return F.relu6(x)
        if k == "hswish":
            return F.hardswish(x)
        if k == "hsigmoid":
            return F.hardsigmoid(x)
        if k == "sigmoid":
            return torch.sigmoid(x)
        raise ValueError(k)


class IRNet(nn.Module):
    """Executes a ModelIR graph (NCHW) with fresh torch layers of the IR's shapes."""

    def __init__(self, ir):
        super().__init__()
        self.nodes = ir["nodes"]
        self.output = ir["output"]
        self.mods = nn.ModuleDict()
        for n in self.nodes:
            op, name = n["op"], n["name"].replace(".", "_")
            if op == "conv2d":
                kh, kw, cin, cout = n["weight"]["shape"]
                self.mods[name] = nn.Conv2d(cin, cout, (kh, kw), n["strides"], (kh // 2, kw // 2), bias="bias" in n)
            elif op == "depthwiseConv2d":
                kh, kw, c, _ = n["weight"]["shape"]
                self.mods[name] = nn.Conv2d(c, c, (kh, kw), n["strides"], (kh // 2, kw // 2), groups=c, bias="bias" in n)
            elif op == "batchNorm":
                self.mods[name] = nn.BatchNorm2d(n["gamma"]["shape"][0])
            elif op == "activation":
                self.mods[name] = Act(n["activation"])
            elif op == "dense":
                i, o = n["weight"]["shape"]
                self.mods[name] = nn.Linear(i, o, bias="bias" in n)

    def forward(self, x):
        return self.run({"nodes": self.nodes, "output": self.output}, x)

    def run(self, ir, x):
        """Executes `ir` (this net's own IR, or for SharedNet a sub-network's) on x."""
        vals = {}
        for n in ir["nodes"]:
            ins = [vals[i] for i in n["inputs"]]
            vals[n["name"]] = x if n["op"] == "input" else self.node(n, ins)
        return vals[ir["output"]]

    def node(self, n, ins):
        op = n["op"]
        if op in ("conv2d", "depthwiseConv2d", "batchNorm", "activation", "dense"):
            return self.mods[n["name"].replace(".", "_")](ins[0])
        if op == "add":
            return ins[0] + ins[1]
        if op == "mul":
            return ins[0] * ins[1]
        if op == "globalAvgPool":
            return ins[0].mean((2, 3), keepdim=n["keepDims"])
        raise ValueError(op)


class SharedNet(IRNet):
    """The supernet as the authors' dynamic layers run it: full-size layers, a config uses their first channels."""

    def node(self, n, ins):
        op = n["op"]
        m = self.mods[n["name"].replace(".", "_")] if op in ("conv2d", "depthwiseConv2d", "batchNorm", "dense") else None
        if op == "conv2d":
            kh, kw, cin, cout = n["weight"]["shape"]
            b = m.bias[:cout] if m.bias is not None else None
            return F.conv2d(ins[0], m.weight[:cout, :cin], b, m.stride, (kh // 2, kw // 2))
        if op == "depthwiseConv2d":
            kh, kw, ch, _ = n["weight"]["shape"]
            b = m.bias[:ch] if m.bias is not None else None
            return F.conv2d(ins[0], m.weight[:ch], b, m.stride, (kh // 2, kw // 2), groups=ch)
        if op == "batchNorm":
            ch = n["gamma"]["shape"][0]
            return F.batch_norm(ins[0], m.running_mean[:ch], m.running_var[:ch], m.weight[:ch], m.bias[:ch],
                                True, m.momentum, m.eps)
        if op == "dense":
            i, o = n["weight"]["shape"]
            return F.linear(ins[0], m.weight[:o, :i], m.bias[:o] if m.bias is not None else None)
        return super().node(n, ins)


def sliced_copy(shared, ir):
    """A static IRNet of `ir` holding copies of the shared net's first-channel weights (the check's reference)."""
    net = IRNet(ir)
    with torch.no_grad():
        for n in ir["nodes"]:
            key = n["name"].replace(".", "_")
            if key not in net.mods or n["op"] == "activation":
                continue
            dst, src = net.mods[key], shared.mods[key]
            for pname in ("weight", "bias", "running_mean", "running_var"):
                d = getattr(dst, pname, None)
                if d is None:
                    continue
                s = getattr(src, pname)
                d.copy_(s[tuple(slice(0, k) for k in d.shape)])
    return net


def time_case(case, spec):
    batch, (h, w, c) = spec["batch"], spec["input"]
    torch.manual_seed(0)
    x = torch.randn(batch, c, h, w)
    y = torch.randint(0, spec["numClasses"], (batch,))
    netaug = case["strategy"] == "netaug"
    shared = SharedNet(case["full"]) if netaug and "full" in case else None
    extra = {}
    if shared is not None:
        tiny = lambda inp: shared.run(case["tiny"], inp)  # noqa: E731
        augs = [(lambda a: (lambda inp: shared.run(a, inp)))(a) for a in case.get("aug", [])]
        params = list(shared.parameters())
        extra["pytorchSharedParams"] = sum(p.numel() for p in params)
        if case.get("check"):
            diffs = []
            for ir, run in [(case["tiny"], tiny)] + list(zip(case.get("aug", [])[:1], augs[:1])):
                ref = sliced_copy(shared, ir)
                with torch.no_grad():
                    diffs.append(float((run(x) - ref(x)).abs().max()))
            extra["checkMaxAbsDiff"] = max(diffs)
    else:
        tiny = IRNet(case["tiny"])
        augs = [IRNet(a) for a in case.get("aug", [])] if netaug else []
        params = list(tiny.parameters()) + [p for a in augs for p in a.parameters()]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, nesterov=True, weight_decay=4e-5)
    times = []
    warmup = int(case.get("warmup", spec["warmup"]))
    total = warmup + int(case.get("steps", spec["steps"]))
    for i in range(total):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(tiny(x), y, label_smoothing=0.1)
        if augs:
            loss = loss + F.cross_entropy(augs[i % len(augs)](x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt * 1000)
    return {
        "id": case["id"],
        "pytorchMsPerStep": statistics.median(times),
        "pytorchMsMin": min(times),
        "pytorchMsMax": max(times),
        "pytorchMsMean": statistics.fmean(times),
        "pytorchSteps": len(times),
        "torchVersion": torch.__version__,
        "threads": torch.get_num_threads(),
        "weightSharing": shared is not None,
        # ru_maxrss is in KiB on Linux: the peak of this process so far
        "pytorchRssPeakBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        **extra,
    }


def main():
    spec = json.load(sys.stdin)
    torch.set_num_threads(int(spec.get("threads", 2)))
    for case in spec["cases"]:
        print(json.dumps(time_case(case, spec)), flush=True)


if __name__ == "__main__":
    main()
