"""CNN speed: one training step of a small convolutional net at the digits scale, against torch eager.

The step: a batch of 64 single-channel 8x8 images through
``Conv2d(1, 16, 3, padding=1)-ReLU-MaxPool2d(2)-Conv2d(16, 32, 3, padding=1)-ReLU-MaxPool2d(2)-Flatten-
Linear(128, 10)``, cross-entropy, backward and an Adam update (lr 1e-3), in float32, with chainrule's
``nn`` and with ``torch.nn`` from identical weights at 1 and 2 threads (benchmarks.model_step).

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_cnn`` prints the section.
"""
import functools

from benchmarks import model_step

IMAGE = (1, 8, 8)
CLASSES = 10


def build(nn):
    """The model from ``nn`` or ``torch.nn``: the same constructor calls for both."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(128, CLASSES))


WORKLOAD = model_step.Workload(
    key="bench_cnn", title="CNN: one training step at the digits scale",
    workload="CNN step (digits scale), `nn` + Adam",
    description=f"{'x'.join(map(str, IMAGE))} images through `Conv2d(1,16,3,padding=1)-ReLU-MaxPool2d(2)-"
                "Conv2d(16,32,3,padding=1)-ReLU-MaxPool2d(2)-Flatten-Linear(128,10)`",
    build=build, data=model_step.random_batch(IMAGE, CLASSES), batch=64, steps=200, quick_steps=20)

run = functools.partial(model_step.run, WORKLOAD)  # run(quick=False, batch=None, steps=None, thread_counts)


if __name__ == "__main__":
    print(run()["markdown"])
