"""CNN speed with strides, groups, dilation and batch norm: one training step against torch eager.

The step: a batch of 32 3x16x16 images through ``Conv2d(3, 16, 3, stride=2, padding=1)-ReLU-
Conv2d(16, 32, 3, padding=1, groups=4)-BatchNorm2d(32)-ReLU-Conv2d(32, 32, 3, stride=2, dilation=2,
padding=2, groups=32)-AdaptiveAvgPool2d(1)-Flatten-Linear(32, 10)``, cross-entropy, backward and Adam
(lr 1e-3), in float32, with chainrule's ``nn`` and with ``torch.nn`` from identical weights at 1 and 2
threads (benchmarks.model_step).

``python -m benchmarks.bench_cnn_strided`` prints the section.
"""
import functools

from benchmarks import model_step

IMAGE = (3, 16, 16)
CLASSES = 10


def build(nn):
    """The model from ``nn`` or ``torch.nn``: the same constructor calls for both."""
    return nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, padding=1, groups=4), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.Conv2d(32, 32, 3, stride=2, dilation=2, padding=2, groups=32),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, CLASSES))


WORKLOAD = model_step.Workload(
    key="bench_cnn_strided", title="CNN: one training step with strides, groups, dilation and batch norm",
    workload="CNN step (strided, grouped, dilated, BatchNorm2d), `nn` + Adam",
    description=f"{'x'.join(map(str, IMAGE))} images through `Conv2d(3,16,3,stride=2,padding=1)-ReLU-"
                "Conv2d(16,32,3,padding=1,groups=4)-BatchNorm2d(32)-ReLU-"
                "Conv2d(32,32,3,stride=2,dilation=2,padding=2,groups=32)-AdaptiveAvgPool2d(1)-Flatten-"
                "Linear(32,10)` (batch norm in training mode, its running statistics updated)",
    build=build, data=model_step.random_batch(IMAGE, CLASSES), batch=32, steps=200, quick_steps=20)

run = functools.partial(model_step.run, WORKLOAD)  # run(quick=False, batch=None, steps=None, thread_counts)


if __name__ == "__main__":
    print(run()["markdown"])
