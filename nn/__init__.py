"""chainrule's ``nn``: layers, losses, optimisers and data utilities with PyTorch's names.

``import nn``; ``model = nn.MLP([2, 16, 16, 2])``; ``nn.optim.Adam(model.parameters())``;
``nn.functional`` (``import nn.functional as F``), ``nn.init``, ``nn.data``, ``nn.utils``,
``nn.save``/``nn.load``, ``nn.to_torch``/``nn.from_torch``.
"""
from . import data, functional, init, optim, utils
from .convert import from_torch, to_torch
from .layers import (GELU, MLP, BatchNorm1d, Conv2d, Dropout, Embedding, Flatten, Identity, LayerNorm,
                     LeakyReLU, Linear, LogSoftmax, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh)
from .layers import *  # noqa: F401,F403 - every layer (layers.__all__)
from .layers import __all__ as _layers
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import (Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList, Sequential,
                     StateDictError)
from .serialization import load, save

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "StateDictError", "Identity", "Linear",
           "Conv2d", "MaxPool2d", "Flatten", "Dropout", "LayerNorm", "BatchNorm1d", "Embedding", "ReLU",
           "Tanh", "Sigmoid", "GELU", "LeakyReLU", "Softmax", "LogSoftmax", "MLP", "MSELoss", "L1Loss",
           "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "functional", "init", "optim",
           "data", "utils", "save", "load", "to_torch", "from_torch"]
__all__ += [name for name in _layers if name not in __all__]
