"""Parameters as one flat vector and back, as ``torch.nn.utils``."""
from autograd import Tensor, cat


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated, ``(sum of numel,)``; differentiable, as torch."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the next ``numel`` entries of ``vec`` (a view of it, as torch: the
    parameters stay the same objects and share ``vec``'s memory)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    flat = vec.detach().numpy().reshape(-1)
    pointer = 0
    for p in parameters:
        n = p.numel()
        if pointer + n > flat.size:
            raise RuntimeError(f"vector_to_parameters: vec has {flat.size} elements, too few for the "
                               f"parameters (needs at least {pointer + n})")
        p.data = flat[pointer:pointer + n].reshape(p.shape)
        pointer += n
