"""torchvision VGG16 to fc6 (after ReLU), random weights and input, f32: images/s and CPU seconds
per image (process user + system time, which other processes on a shared machine cannot
inflate). The same measurement as ../shared/bench/vgg_torch.py plus the CPU time; one JSON line."""
import argparse, json, time

import torch, torchvision

ap = argparse.ArgumentParser()
ap.add_argument("--device", default="cpu")
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--steps", type=int, default=2)
a = ap.parse_args()
dev = torch.device(a.device)
m = torchvision.models.vgg16(weights=None).eval().to(dev)
fc6 = torch.nn.Sequential(m.features, m.avgpool, torch.nn.Flatten(), m.classifier[0], m.classifier[1])
x = torch.rand(a.batch, 3, 224, 224, device=dev)
sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
with torch.no_grad():
    fc6(x)  # one warm-up pass, as the lrmm bench
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        y = fc6(x)
    sync()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
n = a.steps * a.batch
print(json.dumps({"impl": f"torchvision-{torchvision.__version__}-vgg16-fc6", "device": str(dev), "dtype": "f32",
                  "batch": a.batch, "images_per_s": round(n / wall, 1),
                  "cpu_s_per_image": round(cpu / n, 3), "threads": torch.get_num_threads(), "out_dim": y.shape[1]}))
