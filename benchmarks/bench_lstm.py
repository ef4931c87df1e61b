"""LSTM speed: one training step of a two-layer LSTM sequence classifier against torch eager.

The step: a batch of 32 sequences of 20 steps of 16 features through ``LSTM(16, 32, num_layers=2,
batch_first=True)``, ``Linear(32, 4)`` on the last time step's output, cross-entropy, backward and Adam
(lr 1e-3), in float32, with chainrule's ``nn`` and with ``torch.nn`` from identical weights at 1 and 2
threads (benchmarks.model_step).

``python -m benchmarks.bench_lstm`` prints the section.
"""
import functools

from benchmarks import model_step

SEQUENCE = (20, 16)  # time steps, features
HIDDEN, LAYERS, CLASSES = 32, 2, 4


def build(nn):
    """The classifier from ``nn`` or ``torch.nn``: the same module class written once for both."""
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(SEQUENCE[1], HIDDEN, num_layers=LAYERS, batch_first=True)
            self.head = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            """(N, L, 16) -> logits (N, 4) from the last time step."""
            out, _ = self.lstm(x)
            return self.head(out[:, -1])
    return Classifier()


WORKLOAD = model_step.Workload(
    key="bench_lstm", title="LSTM: one training step of a sequence classifier",
    workload="LSTM step (2 layers, 20 time steps), `nn` + Adam",
    description=f"sequences of {SEQUENCE[0]} steps of {SEQUENCE[1]} features through "
                f"`LSTM({SEQUENCE[1]},{HIDDEN},num_layers={LAYERS},batch_first=True)` and "
                f"`Linear({HIDDEN},{CLASSES})` on the last time step",
    build=build, data=model_step.random_batch(SEQUENCE, CLASSES), batch=32, steps=50, quick_steps=10)

run = functools.partial(model_step.run, WORKLOAD)  # run(quick=False, batch=None, steps=None, thread_counts)


if __name__ == "__main__":
    print(run()["markdown"])
