"""``autograd.cuda``: chainrule computes on the CPU with NumPy, so no CUDA device is ever available."""


def is_available():
    """False: chainrule has no GPU backend (carry a model to PyTorch with ``nn.to_torch``)."""
    return False


def device_count():
    """0: no CUDA device."""
    return 0
