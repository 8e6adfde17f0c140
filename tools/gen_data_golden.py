#!/usr/bin/python3
"""Golden values for the data layer (tests/data/test_multifashion.cpp), computed with PyTorch.

Regenerate:  /usr/bin/python3 tools/gen_data_golden.py   (writes tests/fixtures/data_resize.json)

- "resize": bilinear resizes by torch.nn.functional.interpolate(mode="bilinear",
  align_corners=False, antialias=False) in float64, on random inputs (stored in the fixture):
  the MultiFashion downscale 36x36 -> 28x28, a non-square downscale and an upscale (which
  exercises the clamping at both borders).
- "multifashion": when Debian's dataset-fashion-mnist is installed, the MultiFashion image of
  training items (left, right): the 36x36 canvas built with numpy (left at [0:28, 0:28], right at
  [6:34, 6:34], overlap = max) and resized by torch to 28x28, with both labels.
"""
import gzip
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "data_resize.json")
FASHION = "/usr/share/datasets/fashion-mnist"


def resize(img, h, w):
    t = torch.tensor(img, dtype=torch.float64)[None, None]
    return F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False, antialias=False)[0, 0].numpy()


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def main():
    torch.manual_seed(0)
    cases = []
    for (ih, iw, oh, ow) in [(36, 36, 28, 28), (5, 7, 3, 4), (3, 3, 5, 5), (4, 6, 7, 3)]:
        x = torch.rand(ih, iw, dtype=torch.float64).numpy()
        cases.append({"in": [ih, iw], "out": [oh, ow], "input": x.ravel().tolist(),
                      "output": resize(x, oh, ow).ravel().tolist()})
    fixture = {"generator": "tools/gen_data_golden.py", "torch": torch.__version__, "resize": cases}

    images_path = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    if os.path.exists(images_path):
        images = read_idx(images_path, 16).reshape(-1, 28, 28).astype(np.float64) / 255.0
        labels = read_idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz"), 8)
        pairs = []
        for left, right in [(0, 1), (5, 2), (123, 59999)]:
            canvas = np.zeros((36, 36))
            canvas[0:28, 0:28] = images[left]
            canvas[6:34, 6:34] = np.maximum(canvas[6:34, 6:34], images[right])
            pairs.append({"left": left, "right": right, "left_label": int(labels[left]),
                          "right_label": int(labels[right]), "image": resize(canvas, 28, 28).ravel().tolist()})
        fixture["multifashion"] = pairs
        fixture["first_train_labels"] = [int(v) for v in labels[:6]]

    with open(OUT, "w") as f:
        json.dump(fixture, f)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
